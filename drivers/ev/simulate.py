"""EV physics: home or away on its weekly schedule (home's local time), the driving
drain on return, and charging or V2H discharging at its rates while plugged in.

State carried between ticks: ``since`` is when the car left home (NaN while home).
"""

from __future__ import annotations

import numpy as np

from drivers.ev.models import WEEKDAYS
from hems.sdk import Batch, State, integrate_flow


def weekday_masks(away_days: np.ndarray) -> np.ndarray:
    """``"mon,tue"`` -> bit mask (Monday bit 0), parsing each distinct value once."""
    unique, inverse = np.unique(away_days.astype(str), return_inverse=True)
    masks = np.array(
        [sum(1 << WEEKDAYS.index(day) for day in filter(None, value.split(","))) for value in unique], dtype=np.int64
    )
    return masks[inverse] if len(unique) else np.zeros(len(away_days), dtype=np.int64)


def is_away(batch: Batch) -> np.ndarray:
    c, homes = batch.config, batch.homes
    leaves, returns, hour = c["leaves_at"], c["returns_at"], homes.local_hour
    masks = weekday_masks(c["away_days"])
    today = (masks >> homes.weekday.astype(np.int64)) & 1 == 1
    yesterday = (masks >> ((homes.weekday.astype(np.int64) - 1) % 7)) & 1 == 1
    same_day = leaves < returns
    # Away during [leaves, returns) on an away day; a trip across midnight started
    # on an away day runs until `returns` the next morning.
    daytime_trip = same_day & today & (hour >= leaves) & (hour < returns)
    overnight_trip = ~same_day & ((today & (hour >= leaves)) | (yesterday & (hour < returns)))
    return daytime_trip | overnight_trip


def simulate(batch: Batch) -> State:
    n = len(batch)
    if not n:
        return State.empty()
    c, state = batch.config, batch.state
    now = batch.instant.timestamp()
    away = is_away(batch)
    was_away = ~np.isnan(state.since)
    leaving = away & ~was_away
    returning = ~away & was_away
    level = np.nan_to_num(state.level_wh).copy()
    hours_away = np.where(returning, (now - np.nan_to_num(state.since, nan=now)) / 3600.0, 0.0)
    level = np.where(returning, np.maximum(level - c["drain_wh_per_hour"] * hours_away, 0.0), level)
    since = np.where(leaving, now, np.where(returning, np.nan, state.since))

    mode = c["mode"]
    desired = np.select([mode == "charging", mode == "discharging"], [c["max_charge_w"], -c["max_discharge_w"]], 0.0)
    desired = np.where(away, 0.0, desired)
    flow, new_level = integrate_flow(
        desired, level, c["capacity_wh"], c["max_charge_w"], c["max_discharge_w"], batch.elapsed_h
    )
    new_level = np.where(away, level, new_level)  # away: the last known level stands
    return State(
        available=~away,
        power_w=np.abs(flow),
        flow_w=flow,
        level_wh=new_level,
        since=since,
        aux=state.aux.copy(),
    )
