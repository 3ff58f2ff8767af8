"""EV physics: home or away on its weekly schedule (home's local time), the driving
drain on return, and charging or V2H discharging at its rates while plugged in.

A tick covers the span ``(now - elapsed_h, now]``, which may hold a departure, a
return or both (after missed ticks). The span is swept trip by trip in time order:
the car charges only over the parts of the span it was at home, and a trip drains
from its scheduled departure to its scheduled return, whichever tick notices them.
The returned flow is the mean over the span, so flow x elapsed is what really flowed.

State carried between ticks: ``since`` is when the car left home (NaN while home);
``aux`` is the instant of its last tick, so a trip that started (or even ended)
during missed ticks is still driven from its scheduled departure.
"""

from __future__ import annotations

import numpy as np

from drivers.ev.models import WEEKDAYS
from hems.sdk import Batch, State, integrate_flow

# A trip is looked for at most this far back (a car out of the tick longer than a
# day, e.g. set offline by its user, does not pay for every trip it missed).
LOOKBACK_H = 24.0
# Trips that began the day before yesterday (overnight ones end yesterday),
# yesterday or today are the only ones that can reach into the last 24 hours.
DAY_OFFSETS = (-2, -1, 0)
# integrate_flow's floor on a span: a stay at home shorter than this is round-off.
MIN_HOURS = 1e-9


def weekday_masks(away_days: np.ndarray) -> np.ndarray:
    """``"mon,tue"`` -> bit mask (Monday bit 0), parsing each distinct value once."""
    unique, inverse = np.unique(away_days.astype(str), return_inverse=True)
    masks = np.array(
        [sum(1 << WEEKDAYS.index(day) for day in filter(None, value.split(","))) for value in unique], dtype=np.int64
    )
    return masks[inverse] if len(unique) else np.zeros(len(away_days), dtype=np.int64)


def is_away(batch: Batch) -> np.ndarray:
    """Whether each car is away on its schedule at the tick's instant."""
    clock = local_clock(batch)
    away = np.zeros(len(batch), dtype=bool)
    for departure, back in trips(batch):
        away |= (departure <= clock) & (clock < back)
    return away


def local_clock(batch: Batch) -> np.ndarray:
    """Local time in hours since the local 1970-01-01 00:00, per device."""
    return batch.local_days() * 24.0 + batch.homes.local_hour


def trips(batch: Batch) -> list[tuple[np.ndarray, np.ndarray]]:
    """The scheduled trips (departure, return) on the local clock, oldest first; NaN
    where that day is not an away day. A trip returning at or before its departure's
    time of day comes back the next day (an overnight trip)."""
    c = batch.config
    masks = weekday_masks(c["away_days"])
    length = (c["returns_at"] - c["leaves_at"]) % 24.0
    result = []
    for offset in DAY_OFFSETS:
        weekday = (batch.homes.weekday.astype(np.int64) + offset) % 7
        goes = ((masks >> weekday) & 1 == 1) & (length > 0)
        departure = np.where(goes, (batch.local_days() + offset) * 24.0 + c["leaves_at"], np.nan)
        result.append((departure, departure + length))
    return result


def simulate(batch: Batch) -> State:
    n = len(batch)
    if not n:
        return State.empty()
    c, state = batch.config, batch.state
    now = batch.instant.timestamp()
    # Times below are in hours relative to now (the span is [-elapsed, 0]), which
    # keeps the span's own length exact.
    span = np.maximum(np.nan_to_num(batch.elapsed_h), 0.0)
    start = -span
    # When the car was last seen by a tick; a new car: the span's start.
    seen = np.where(np.isnan(state.aux), start, (state.aux - now) / 3600.0)
    seen = np.clip(seen, -LOOKBACK_H, start)

    def instant_of(hours: np.ndarray) -> np.ndarray:
        return now + hours * 3600.0

    mode = c["mode"]
    desired = np.select([mode == "charging", mode == "discharging"], [c["max_charge_w"], -c["max_discharge_w"]], 0.0)
    level = np.clip(np.nan_to_num(state.level_wh), 0.0, c["capacity_wh"])
    since = np.asarray(state.since, dtype=float).copy()
    moved_wh = np.zeros(n)  # into the battery over the span, at the terminals
    home_from = start.copy()  # the car is at home from here on, until its next trip

    def at_home(until: np.ndarray) -> None:
        nonlocal level, moved_wh
        # Shorter than integrate_flow's floor (3.6 us): the clock's round-off where a
        # trip starts at the span's start, not time at home. Integrated, it would move
        # the level by 1e-9 h at the full rate yet book only flow x (a few 1e-15 h).
        home = until - home_from > MIN_HOURS
        hours = np.where(home, until - home_from, 0.0)
        flow, new_level = integrate_flow(
            desired, level, c["capacity_wh"], c["max_charge_w"], c["max_discharge_w"], hours
        )
        moved_wh = moved_wh + flow * hours
        level = np.where(home, new_level, level)

    clock = local_clock(batch)
    schedule = [(departure - clock, back - clock) for departure, back in trips(batch)]
    # Away at its last tick but, on the schedule as it is now, not on a trip then (the
    # user changed it): it is back from the moment it was last seen.
    on_a_trip = np.zeros(n, dtype=bool)
    for departure, back in schedule:
        on_a_trip |= (departure <= seen) & (seen < back)
    stale = ~np.isnan(since) & ~on_a_trip
    level = np.where(stale, np.maximum(level - c["drain_wh_per_hour"] * (instant_of(seen) - since) / 3600.0, 0), level)
    since = np.where(stale, np.nan, since)

    for departure, back in schedule:
        counts = ~np.isnan(departure) & (back > seen) & (departure <= 0)
        at_home(np.where(counts, np.minimum(departure, 0.0), -np.inf))
        # Driven from the scheduled departure when it came after the last tick;
        # else from the departure the state carries (or, for a car first seen on
        # a trip, from when it was first seen).
        left = np.where(departure > seen, instant_of(departure), np.where(np.isnan(since), instant_of(seen), since))
        returned = counts & (back <= 0)
        drive_h = np.maximum(instant_of(back) - left, 0.0) / 3600.0
        level = np.where(returned, np.maximum(level - c["drain_wh_per_hour"] * drive_h, 0.0), level)
        since = np.where(counts, np.where(returned, np.nan, left), since)
        home_from = np.where(counts, np.maximum(home_from, np.minimum(back, 0.0)), home_from)
    away = ~np.isnan(since)
    at_home(np.where(away, -np.inf, 0.0))

    flow = np.where(span > 0, moved_wh / np.maximum(span, 1e-9), 0.0)
    # A mean of flows within the rates is within them, but (flow x h) / h can come
    # back one ulp above: the tick holds powers to max(rates) and warns on any excess.
    flow = np.fmin(np.fmax(flow, -c["max_discharge_w"]), c["max_charge_w"])
    flow = np.where(np.abs(flow) < 1e-6, 0.0, flow)
    return State(
        available=~away,
        power_w=np.abs(flow),
        flow_w=flow,
        level_wh=level,
        since=since,
        aux=np.full(n, now),
    )
