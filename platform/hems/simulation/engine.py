"""One tick over one shard, in memory: environment, drivers, balancing, totals.

Pure: arrays in, arrays out, no database. ``hems.simulation.tick`` loads and writes
around it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from hems.energy.stats import CONSUMPTION, PRODUCTION, STORAGE, TYPE_CODES, DeviceArrays, HomeTotals, home_totals
from hems.sdk.bounds import CEILING
from hems.sdk.simulation import Batch, Homes, State
from hems.sdk.types import DeviceType, StorageMode
from hems.simulation import environment
from hems.simulation.loader import CLOSED_HOUR, KindRows
from hems.simulation.loader import Homes as HomeRows
from hems.simulation.rollup import local_starts
from hems.simulation.span import simulate_span

logger = logging.getLogger("hems.simulation")

FIRST_TICK_H = 1 / 60

# What the write does with a state row's ended hour (``KindRows.hour["closed_*"]``,
# writer.APPLY): keep it; close the running hour into it (it just ended and waits for
# the device's filing minute); clear it (filed by this tick).
KEEP, CLOSE, CLEAR = 0, 1, 2


@dataclass
class KindResult:
    rows: KindRows
    due: np.ndarray  # bool: simulated by this tick (others were newer already)
    state: State  # the new state of every device of the kind (unchanged where not due)
    elapsed_h: np.ndarray
    energy: dict[str, np.ndarray]  # Wh through each device over this tick: energy_wh, charge_wh, discharge_wh
    hour: dict[str, np.ndarray]  # the running hour after this tick (start, energies) and the ended one waiting
    finished: dict[str, np.ndarray]  # hours filed now: device_id, start, energies, level_wh at the end, day_start
    filing: np.ndarray | None = None  # int: KEEP, CLOSE or CLEAR, per device


@dataclass
class ShardResult:
    instant: datetime
    owners: np.ndarray  # the homes with at least one device, sorted
    totals: HomeTotals  # stats now, per home
    energy: dict[str, np.ndarray]  # Wh over the tick, per home
    period_start: np.ndarray  # seconds since the epoch, per home
    kinds: list[KindResult]
    time_zone: np.ndarray | None = None  # str, per home: the history's local hours and days

    @property
    def devices(self) -> int:
        return int(sum(int(k.due.sum()) for k in self.kinds))


def environment_of(instant: datetime, homes: HomeRows) -> Homes:
    """Clock, weather and sun per home (indexed like ``homes.owner``)."""
    hour, weekday, day = environment.local_clock(instant, homes.time_zone)
    cell = environment.weather_cell(homes.latitude, homes.longitude)
    hours = instant.timestamp() / 3600.0
    clouds = environment.cloud_cover(cell, hours)
    temperature = environment.temperature(homes.latitude, hour, day, clouds, cell, hours)
    zenith, azimuth = environment.sun_position(instant, homes.latitude, homes.longitude)
    return Homes(
        latitude=homes.latitude,
        longitude=homes.longitude,
        local_hour=hour,
        weekday=weekday,
        day_of_year=day,
        temperature_c=temperature,
        cloud_cover=clouds,
        sun_zenith=zenith,
        sun_azimuth=azimuth,
        index=np.arange(len(homes.owner)),
    )


def kind_order(rows: KindRows) -> int:
    """Non-dispatchable kinds first; storage that can balance the home (AUTO) last."""
    if rows.kind.device_type != DeviceType.STORAGE:
        return 0
    return 2 if StorageMode.AUTO in getattr(rows.kind.model, "SUPPORTED_MODES", ()) else 1


def checked(
    kind_key: str, state: State, n: int, storage: bool, capacity: np.ndarray, limit: np.ndarray | float = CEILING
) -> State:
    """Hold a driver's output to the physical bounds, loudly: power within [0, the
    kind's declared limit] (``DeviceKind.power_limit_w``), a level within the capacity."""
    if len(state) != n:
        raise ValueError(f"{kind_key}.simulate returned {len(state)} states for {n} devices")
    power = np.nan_to_num(np.asarray(state.power_w, dtype=float))
    if (power < 0).any():
        logger.warning("%s.simulate returned negative power; clipped to 0", kind_key)
    if (power > limit).any():
        logger.warning("%s.simulate returned power above the kind's declared bound; clipped to it", kind_key)
    power = np.minimum(power, limit)
    flow = np.clip(np.nan_to_num(np.asarray(state.flow_w, dtype=float)), -limit, limit) if storage else np.zeros(n)
    level = np.clip(np.nan_to_num(state.level_wh), 0.0, capacity) if storage else np.full(n, np.nan)
    return State(
        available=np.asarray(state.available, dtype=bool),
        power_w=np.maximum(power, 0.0),
        flow_w=flow,
        level_wh=level,
        since=np.asarray(state.since, dtype=float),
        aux=np.asarray(state.aux, dtype=float),
    )


def auto_demand(rows: KindRows, home: np.ndarray, residual_w: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Share each home's residual among its active AUTO devices, by their rate limit.

    ``residual_w`` is the home's net grid flow so far (+ import): AUTO storage takes
    the opposite, charging a surplus and covering a deficit.
    """
    n_homes = len(residual_w)
    auto = active & (rows.config.get("mode", np.array([""] * len(rows))) == StorageMode.AUTO)
    wanted = -residual_w[home]
    weight = np.where(wanted > 0, rows.config["max_charge_w"], rows.config["max_discharge_w"])
    weight = np.where(auto, np.nan_to_num(weight), 0.0)
    total = np.bincount(home, weights=weight, minlength=n_homes)[home]
    share = np.divide(weight, total, out=np.zeros(len(rows)), where=total > 0)
    return np.where(auto, wanted * share, 0.0)


def stats_arrays(kind, state: State, home: np.ndarray, active: np.ndarray, capacity: np.ndarray) -> DeviceArrays:
    """A kind's devices as the stats see them (``active``: those that count now)."""
    n = len(state)
    return DeviceArrays(
        home=home,
        device_type=np.full(n, TYPE_CODES[kind.device_type], dtype=np.int8),
        online=active,
        power_w=state.power_w,
        flow_w=state.flow_w,
        level_wh=np.nan_to_num(state.level_wh),
        capacity_wh=capacity,
        charging_is_consumption=np.full(n, kind.charging_is_consumption),
    )


def reported_energy(
    rows: KindRows, counts: np.ndarray, now: float, stale_s: float, storage: bool, available: np.ndarray | None = None
) -> dict:
    """A live device's energy over this tick, from its reports: what the ingest integrated
    between reports since the previous tick (``pending_*``), plus, while ``available``, its
    last reported power from that report (or the previous tick, if later) to now, but not
    past the staleness. (A device that went offline has its power counted up to then in
    ``pending_*`` by hems.live.availability: that still counts.)"""
    reported = rows.reports["reported_at"]
    start = np.fmax(reported, rows.simulated_at)
    # Never reported (NaN): minimum() propagates it, and nothing counts.
    tail_h = np.nan_to_num(np.clip((np.minimum(now, reported + stale_s) - start) / 3600.0, 0.0, None))
    if available is not None:
        tail_h = np.where(available, tail_h, 0.0)
    flow = rows.state.flow_w if storage else np.zeros(len(rows))
    energy = {
        "energy_wh": rows.reports["pending_energy_wh"] + rows.state.power_w * tail_h,
        "charge_wh": rows.reports["pending_charge_wh"] + np.maximum(flow, 0.0) * tail_h,
        "discharge_wh": rows.reports["pending_discharge_wh"] + np.maximum(-flow, 0.0) * tail_h,
    }
    return {name: np.where(counts, np.maximum(value, 0.0), 0.0) for name, value in energy.items()}


def simulate_shard(
    instant: datetime,
    homes: HomeRows,
    kinds: list[KindRows],
    max_elapsed_h: float,
    stale_s: float = 300.0,
    filing_minutes: int = 1,
) -> ShardResult:
    """One tick over a shard. Live devices (``rows.live_source``) are not simulated: their
    state is what they reported; they count while their last report is at most
    ``stale_s`` old, and their energy comes from their reports. A device's ended hour
    is filed at its minute among ``filing_minutes`` (``filing_due``)."""
    now = instant.timestamp()
    env = environment_of(instant, homes)
    # Spans longer than a sub-step (after missed ticks) need the environment at earlier minutes.
    environments = {instant: env}

    def environment_at(moment: datetime) -> Homes:
        if moment not in environments:
            environments[moment] = environment_of(moment, homes)
        return environments[moment]

    offsets = environment.utc_offsets(instant, homes.time_zone)
    n_homes = len(homes.owner)
    results: list[KindResult] = []
    # Running per-home totals of everything simulated so far, for AUTO storage.
    devices_so_far: list[DeviceArrays] = []
    # The same over each device's span, for AUTO storage: a device that drew power and then
    # became unavailable (a car that charged, then left) drew it over the span all the same.
    spans_so_far: list[DeviceArrays] = []

    for rows in sorted(kinds, key=kind_order):
        n = len(rows)
        kind = rows.kind
        storage = kind.device_type == DeviceType.STORAGE
        home = np.searchsorted(homes.owner, rows.owner)
        due = ~(rows.simulated_at >= now)  # NaN (never simulated) is due
        since_last = (now - rows.simulated_at) / 3600.0
        elapsed = np.clip(np.where(np.isnan(since_last), FIRST_TICK_H, since_last), 0.0, max_elapsed_h)
        capacity = np.nan_to_num(rows.capacity_wh) if storage else np.zeros(n)

        live = rows.live_source
        any_live = bool(live.any())
        # Live devices count while their last report is fresh (NaN, never reported, is not).
        fresh = live & (now - rows.reports["reported_at"] <= stale_s) if any_live else live

        demand = np.zeros(n)
        if kind_order(rows) == 2:
            measured = [stats_arrays(kind, rows.state, home, rows.online & fresh & rows.state.available, capacity)]
            residual = home_totals(concat(spans_so_far + (measured if any_live else [])), n_homes).net_grid
            demand = auto_demand(rows, home, residual, rows.online & due & ~live)

        new = rows.state.copy()
        pick = np.flatnonzero(due & rows.online & ~live)
        if len(pick):
            batch = Batch(
                instant=instant,
                ids=rows.ids,
                elapsed_h=elapsed,
                config=rows.config,
                state=rows.state,
                homes=env.take(home),
                demand_w=demand,
            ).take(pick)
            limit = kind.power_limit_w(batch.config, len(pick))
            out = checked(
                kind.key, simulate_span(kind.simulate, batch, environment_at), len(pick), storage, capacity[pick], limit
            )
            for name in ("available", "power_w", "flow_w", "level_wh", "since", "aux"):
                getattr(new, name)[pick] = getattr(out, name)
        # Offline (by the user) or already newer: no power, state otherwise kept. A live
        # device's state is its reports', written back as read (the ingest owns it).
        idle = ~(due & rows.online) & ~live
        new.power_w[idle] = 0.0
        new.flow_w[idle] = 0.0
        active = rows.online & new.available & (fresh | ~live)
        # The span's energy counts even for a device unavailable at its end (a car that
        # charged, then left): the driver's power is its mean over the span.
        energy = simulated_energy(due, rows.online, new, elapsed, storage)
        if any_live:
            counted = reported_energy(rows, due & rows.online, now, stale_s, storage, new.available)
            energy = {name: np.where(live, counted[name], value) for name, value in energy.items()}
        hour, finished, filing = device_hours(
            rows, due, energy, elapsed, now, offsets[home], homes.time_zone, home, filing_minutes
        )
        results.append(
            KindResult(
                rows=rows, due=due, state=new, elapsed_h=elapsed, energy=energy, hour=hour, finished=finished,
                filing=filing,
            )
        )  # fmt: skip
        devices_so_far.append(stats_arrays(kind, new, home, active, capacity))
        spans_so_far.append(stats_arrays(kind, new, home, rows.online & (fresh | ~live), capacity))

    totals = home_totals(concat(devices_so_far), n_homes)
    energy, period_start = energy_over_tick(results, devices_so_far, n_homes, now)
    # Homes this tick moved forward (a late or repeated tick moves none).
    present = np.zeros(n_homes, dtype=bool)
    for result in results:
        present[np.searchsorted(homes.owner, result.rows.owner[result.due])] = True
    return ShardResult(
        instant=instant,
        owners=homes.owner[present],
        totals=HomeTotals(**{name: getattr(totals, name)[present] for name in HomeTotals.__dataclass_fields__}),
        energy={name: values[present] for name, values in energy.items()},
        period_start=period_start[present],
        kinds=results,
        time_zone=homes.time_zone[present],
    )


def simulated_energy(due, active, state, elapsed_h, storage) -> dict[str, np.ndarray]:
    """A simulated device's energy over this tick: its new power held over the span."""
    hours = np.where(due, elapsed_h, 0.0)
    flow = np.where(active, state.flow_w, 0.0) if storage else np.zeros(len(hours))
    return {
        "energy_wh": np.where(active, state.power_w, 0.0) * hours,
        "charge_wh": np.maximum(flow, 0.0) * hours,
        "discharge_wh": np.maximum(-flow, 0.0) * hours,
    }


def filing_due(ids: np.ndarray, simulated_at: np.ndarray, now: float, minutes: int) -> np.ndarray:
    """Whether each device's filing minute (its id modulo ``minutes``, counted in
    minutes since the epoch) came since its last tick (a device never ticked: due).
    Missed or sparser ticks still meet every minute they passed."""
    if minutes <= 1:
        return np.ones(len(ids), dtype=bool)
    minute = np.floor(now / 60.0)
    passed = minute - np.floor(simulated_at / 60.0)  # NaN: never ticked
    since_own = np.mod(minute - np.mod(ids, minutes), minutes)
    return ~(passed <= since_own)


def device_hours(rows, due, energy, elapsed_h, now, offset_s, time_zones, home, filing_minutes=1):
    """Add this tick's energy to each device's running (home-local) hour. When a
    device's tick falls in a new hour, the hour that ended is filed as a history row
    (with the start of its local day; ``time_zones[home]`` is each device's home's
    zone) at the device's filing minute (``filing_due``); until then its state row
    keeps it (CLOSE), and the tick at that minute files it (CLEAR). So the devices'
    hours are filed over ``filing_minutes`` ticks, not all by the first tick of the
    hour. An hour still waiting when the next one ends is filed then.

    A device without a level that has no energy this tick and no hour waiting keeps an
    ended hour as its running one (its start says which hour it is) until its filing
    minute files it or its next energy closes it; one with nothing in the ended hour
    keeps it until its next energy. Its state row is then left as it was (the tick
    rewrites only changed rows) rather than every row being rewritten when the hour
    ends; every reader attributes the running hour to its own start."""
    hours = np.where(due, elapsed_h, 0.0)
    period_start = now - hours * 3600.0
    bucket = np.floor((period_start + offset_s) / 3600.0) * 3600.0 - offset_s
    running = rows.hour["start"]
    totals = sum(rows.hour[name] for name in energy)
    # The level as the device's last tick in the hour leaving left it: that hour's end
    # level (NaN for a device without storage). A storage device's hour leaves even
    # without energy, so its level is recorded every hour (idle, or away on its schedule).
    level = rows.state.level_wh
    waiting = ~np.isnan(rows.hour["closed_start"])
    at_minute = filing_due(rows.ids, rows.simulated_at, now, filing_minutes)
    quiet = (sum(energy.values()) == 0) & np.isnan(level) & ~waiting & (~at_minute | (totals == 0))
    rolls = due & ~np.isnan(running) & (running != bucket) & ~quiet
    restart = due & (np.isnan(running) | rolls)
    leaving = rolls & ((totals > 0) | ~np.isnan(level))
    file_waiting = due & waiting & (at_minute | rolls)
    file_now = leaving & at_minute & ~waiting  # at most one hour filed per device and tick
    close = leaving & ~file_now
    filing = np.where(close, CLOSE, np.where(file_waiting, CLEAR, KEEP))
    ended = {"closed_start": running, "closed_level_wh": level}
    ended.update({f"closed_{name}": rows.hour[name] for name in energy})
    finished = {
        "device_id": np.concatenate([rows.ids[file_waiting], rows.ids[file_now]]),
        "start": np.concatenate([rows.hour["closed_start"][file_waiting], running[file_now]]),
        "level_wh": np.concatenate([rows.hour["closed_level_wh"][file_waiting], level[file_now]]),
    }
    for name in energy:
        finished[name] = np.concatenate([rows.hour[f"closed_{name}"][file_waiting], rows.hour[name][file_now]])
    finished["day_start"] = local_days(
        finished["start"], np.concatenate([home[file_waiting], home[file_now]]), time_zones
    )
    hour = {"start": np.where(restart, bucket, running)}
    for name, value in energy.items():
        hour[name] = np.where(restart, value, rows.hour[name] + value)
    for name in CLOSED_HOUR:
        hour[name] = np.where(close, ended[name], np.where(filing == CLEAR, np.nan, rows.hour[name]))
    return hour, finished, filing


def local_days(starts: np.ndarray, home: np.ndarray, time_zones: np.ndarray) -> np.ndarray:
    """The local midnight (seconds since the epoch) of each instant in its home's zone
    (``time_zones[home]``), converted once per distinct (home, instant). Filing an hour
    into its day then needs no join to find each device's zone (at 2,000,000 devices
    that join was half of the hour's filing)."""
    if not len(starts):
        return np.zeros(0)
    _, first, inverse = np.unique(
        np.stack([home.astype(float), starts]), axis=1, return_index=True, return_inverse=True
    )
    return local_starts(starts[first], time_zones[home[first]])[1][np.ravel(inverse)]


def concat(parts: list[DeviceArrays]) -> DeviceArrays:
    if not parts:
        empty = np.zeros(0)
        return DeviceArrays(
            np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int8), np.zeros(0, dtype=bool),
            empty, empty, empty, empty, np.zeros(0, dtype=bool),
        )  # fmt: skip
    return DeviceArrays(
        **{name: np.concatenate([getattr(p, name) for p in parts]) for name in DeviceArrays.__dataclass_fields__}
    )


def energy_over_tick(
    results: list[KindResult], devices: list[DeviceArrays], n_homes: int, now: float
) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each home's energy over the span this tick covered (Wh), balanced by construction:
    production + discharge + import = consumption + charge + export."""
    production = np.zeros(n_homes)
    consumption = np.zeros(n_homes)
    charge = np.zeros(n_homes)
    discharge = np.zeros(n_homes)
    span_h = np.zeros(n_homes)
    for result, arrays in zip(results, devices, strict=True):
        hours = np.where(result.due, result.elapsed_h, 0.0)
        home = arrays.home
        code = arrays.device_type[0] if len(arrays.device_type) else None
        if code == PRODUCTION:
            production += np.bincount(home, weights=result.energy["energy_wh"], minlength=n_homes)
        elif code == CONSUMPTION:
            consumption += np.bincount(home, weights=result.energy["energy_wh"], minlength=n_homes)
        elif code == STORAGE:
            charging = result.energy["charge_wh"]
            as_load = charging * arrays.charging_is_consumption
            consumption += np.bincount(home, weights=as_load, minlength=n_homes)
            charge += np.bincount(home, weights=charging - as_load, minlength=n_homes)
            discharge += np.bincount(home, weights=result.energy["discharge_wh"], minlength=n_homes)
        if len(home):
            np.maximum.at(span_h, home, hours)
    net = consumption + charge - production - discharge
    energy = {
        "production_wh": production,
        "consumption_wh": consumption,
        "storage_charge_wh": charge,
        "storage_discharge_wh": discharge,
        "grid_import_wh": np.maximum(net, 0.0),
        "grid_export_wh": np.maximum(-net, 0.0),
    }
    period_start = np.round(now - np.where(span_h > 0, span_h, FIRST_TICK_H) * 3600.0)
    return energy, period_start


__all__ = ["ShardResult", "simulate_shard"]
