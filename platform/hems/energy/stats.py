"""Energy stats per home, from device states (see the energy rules).

One vectorised implementation serves both the API (one home, read from the
database) and the tick (every home of a shard at once), so the formulas exist once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np

from hems.sdk.bounds import CEILING
from hems.sdk.types import DeviceType

PRODUCTION, STORAGE, CONSUMPTION = 0, 1, 2
TYPE_CODES = {DeviceType.PRODUCTION: PRODUCTION, DeviceType.STORAGE: STORAGE, DeviceType.CONSUMPTION: CONSUMPTION}


@dataclass(frozen=True)
class EnergyStats:
    """A home's energy at one instant (W and Wh)."""

    current_production: float
    current_consumption: float
    total_capacity_wh: float
    current_level_wh: float
    percentage: float
    current_storage_flow: float
    net_grid_flow: float
    timestamp: datetime

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def zero(cls, timestamp: datetime) -> EnergyStats:
        return cls(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, timestamp)


@dataclass(frozen=True)
class DeviceArrays:
    """Device states as arrays, one element per device."""

    home: np.ndarray  # int: the home's index, 0..n_homes-1
    device_type: np.ndarray  # int: PRODUCTION, STORAGE or CONSUMPTION
    online: np.ndarray  # bool: configured online and available this minute
    power_w: np.ndarray  # float >= 0
    flow_w: np.ndarray  # float: storage only, + charging, - discharging
    level_wh: np.ndarray  # float: storage only, else 0
    capacity_wh: np.ndarray  # float: storage only, else 0
    charging_is_consumption: np.ndarray  # bool: the kind's charging counts as consumption


@dataclass(frozen=True)
class HomeTotals:
    """The stats of many homes, as arrays indexed by home."""

    production: np.ndarray
    consumption: np.ndarray
    storage_flow: np.ndarray
    capacity_wh: np.ndarray
    level_wh: np.ndarray
    percentage: np.ndarray
    net_grid: np.ndarray

    def stats(self, index: int, timestamp: datetime) -> EnergyStats:
        return EnergyStats(
            current_production=float(self.production[index]),
            current_consumption=float(self.consumption[index]),
            total_capacity_wh=float(self.capacity_wh[index]),
            current_level_wh=float(self.level_wh[index]),
            percentage=float(self.percentage[index]),
            current_storage_flow=float(self.storage_flow[index]),
            net_grid_flow=float(self.net_grid[index]),
            timestamp=timestamp,
        )


def bounded(values: np.ndarray, low: float) -> np.ndarray:
    """Values as finite numbers within [low, CEILING] (NaN counts as 0)."""
    return np.clip(np.nan_to_num(np.asarray(values, dtype=float), nan=0.0), low, CEILING)


def home_totals(devices: DeviceArrays, n_homes: int) -> HomeTotals:
    """Apply the stats rules to every home at once.

    - production: power of online production devices;
    - consumption: power of online consumption devices, plus the charging of online
      storage whose kind counts charging as consumption;
    - storage flow: net flow into the other storage (+ charging, - discharging), and
      the discharge of the storage that counts charging as consumption;
    - capacity and level: all storage devices, online or offline (an offline device
      at its last known level);
    - net grid flow: consumption - production + storage flow (+ import, - export).
    """
    home, kind, online = devices.home, devices.device_type, devices.online

    def per_home(weights: np.ndarray) -> np.ndarray:
        return np.bincount(home, weights=weights, minlength=n_homes)[:n_homes]

    # Each device within the core's ceiling, so no sum over a home can overflow and
    # nothing non-finite reaches a total, whatever a row holds (hems.sdk.bounds).
    power_w, flow_w = bounded(devices.power_w, 0.0), bounded(devices.flow_w, -CEILING)
    level_wh, capacity_wh = bounded(devices.level_wh, 0.0), bounded(devices.capacity_wh, 0.0)
    storage = kind == STORAGE
    active_storage = storage & online
    flow = np.where(active_storage, flow_w, 0.0)
    charging_load = np.where(devices.charging_is_consumption & (flow > 0), flow, 0.0)
    production = per_home(np.where(online & (kind == PRODUCTION), power_w, 0.0))
    consumption = per_home(np.where(online & (kind == CONSUMPTION), power_w, 0.0) + charging_load)
    storage_flow = per_home(flow - charging_load)
    capacity = per_home(np.where(storage, capacity_wh, 0.0))
    level = per_home(np.where(storage, level_wh, 0.0))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        percentage = np.clip(np.where(capacity > 0, level / capacity * 100.0, 0.0), 0.0, 100.0)
    return HomeTotals(
        production=production,
        consumption=consumption,
        storage_flow=storage_flow,
        capacity_wh=capacity,
        level_wh=level,
        percentage=percentage,
        net_grid=consumption - production + storage_flow,
    )


def stats_from_database(owner_id: int, now: datetime) -> EnergyStats:
    """One home's stats from the device states stored now (one query)."""
    from hems.devices.liveness import is_live
    from hems.devices.models import DeviceState
    from hems.plugins import registry
    from hems.simulation import ticked

    rows = list(
        DeviceState.objects.filter(device__owner_id=owner_id).values_list(
            "device__device_type", "device__kind", "device__status", "available",
            "power_w", "flow_w", "level_wh", "capacity_wh", "simulated_at", "device__source", "reported_at",
            ticked.last_tick_expression("owner_id"),
        )
    )  # fmt: skip
    if not rows:
        return EnergyStats.zero(now)
    kinds = registry().kinds

    def counts_charging_as_consumption(key: str) -> bool:
        try:
            return kinds[key].charging_is_consumption
        except KeyError:
            return False  # a kind whose driver is missing: plain storage

    columns = list(zip(*rows, strict=True))
    devices = DeviceArrays(
        home=np.zeros(len(rows), dtype=np.intp),
        device_type=np.array([TYPE_CODES[t] for t in columns[0]], dtype=np.int8),
        online=np.array(
            [is_live(*row, now=now) for row in zip(*(columns[i] for i in (1, 2, 3, 9, 10)), strict=True)], dtype=bool
        ),
        power_w=np.array(columns[4], dtype=float),
        flow_w=np.array(columns[5], dtype=float),
        level_wh=np.array([v or 0.0 for v in columns[6]], dtype=float),
        capacity_wh=np.array([v or 0.0 for v in columns[7]], dtype=float),
        charging_is_consumption=np.array([counts_charging_as_consumption(k) for k in columns[1]], dtype=bool),
    )
    # The rows a tick left unchanged were simulated all the same (hems.simulation.ticked).
    simulated = [ticked.last_simulated(t, latest) for t, latest in zip(columns[8], columns[11], strict=True)]
    simulated = [t for t in simulated if t is not None]
    return home_totals(devices, 1).stats(0, max(simulated) if simulated else now)


__all__ = ["DeviceArrays", "EnergyStats", "HomeTotals", "home_totals", "stats_from_database"]
