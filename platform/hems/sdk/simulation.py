"""What a driver's ``simulate()`` receives and returns, and seeded randomness for it.

The tick hands a driver a :class:`Batch`: many devices of one kind at one instant,
as numpy arrays, one element per device. The driver returns a :class:`State` with
the new live state of the same devices in the same order. All arrays are float64
unless noted; "not set" is NaN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime

import numpy as np

MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


@dataclass
class State:
    """Live state of a batch of devices (see ``hems.devices.models.DeviceState``).

    :ivar available: bool; False while the driver's physics takes the device away
        (a vehicle not at home). Only the driver sets it; the user's status is apart.
    :ivar power_w: instantaneous power, a magnitude (W, >= 0).
    :ivar flow_w: storage only: power into storage, + charging, - discharging (W).
    :ivar level_wh: storage only: stored energy (Wh), in [0, capacity_wh].
    :ivar since: a driver's timestamp carried between ticks (seconds since the epoch).
    :ivar aux: a driver's number carried between ticks.
    """

    available: np.ndarray
    power_w: np.ndarray
    flow_w: np.ndarray
    level_wh: np.ndarray
    since: np.ndarray
    aux: np.ndarray

    def __len__(self) -> int:
        return len(self.power_w)

    def copy(self, **changes) -> State:
        return replace(self, **{f.name: getattr(self, f.name).copy() for f in fields(self)} | changes)

    @classmethod
    def empty(cls, n: int = 0) -> State:
        nan = np.full(n, np.nan)
        return cls(np.ones(n, dtype=bool), np.zeros(n), np.zeros(n), nan, nan.copy(), nan.copy())

    def take(self, index) -> State:
        return State(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass
class Homes:
    """Where and when each device of the batch is (its home's location and clock).

    :ivar latitude, longitude: degrees.
    :ivar local_hour: local time of day in hours, 0 <= h < 24 (07:30 is 7.5).
    :ivar weekday: int, local day of the week, Monday 0 to Sunday 6.
    :ivar day_of_year: int, local day of the year, 1 to 366.
    :ivar temperature_c: outdoor air temperature now (degrees C).
    :ivar cloud_cover: fraction of the sky covered now, 0 (clear) to 1 (overcast);
        it drifts smoothly over hours, the same for every device of a home.
    :ivar sun_zenith, sun_azimuth: the sun's position (degrees; azimuth clockwise
        from north), from NREL's SPA (pvlib.spa).
    :ivar index: int, the home's position in the tick (devices of one home share it).
    """

    latitude: np.ndarray
    longitude: np.ndarray
    local_hour: np.ndarray
    weekday: np.ndarray
    day_of_year: np.ndarray
    temperature_c: np.ndarray
    cloud_cover: np.ndarray
    sun_zenith: np.ndarray
    sun_azimuth: np.ndarray
    index: np.ndarray

    def take(self, index) -> Homes:
        return Homes(**{f.name: getattr(self, f.name)[index] for f in fields(self)})


@dataclass
class Batch:
    """Many devices of one kind, at one tick.

    :ivar instant: the tick's instant, the scheduled minute (UTC, aware).
    :ivar ids: int64 device ids.
    :ivar elapsed_h: hours since each device was last simulated (one tick, 1/60, for
        a new device); levels integrate over it and the returned powers are taken to
        hold over it.
    :ivar config: the kind's attributes (``DeviceKind.fields``), one array each:
        numbers as float64 (NaN where unset), booleans as bool, times of day as
        float64 hours, text and choices as str arrays.
    :ivar state: the state the previous tick left.
    :ivar homes: each device's home: location, local clock, weather and sun.
    :ivar demand_w: storage kinds only: for devices in AUTO mode, the flow that would
        balance their home after everything else (+ charge a surplus, - cover a
        deficit), already shared among the home's AUTO devices; 0 otherwise.
    """

    instant: datetime
    ids: np.ndarray
    elapsed_h: np.ndarray
    config: Mapping[str, np.ndarray]
    state: State
    homes: Homes
    demand_w: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def minute(self) -> int:
        """The tick's instant in whole minutes since the epoch (a seed component)."""
        return int(self.instant.timestamp()) // 60

    def local_days(self) -> np.ndarray:
        """int64, per device: the home's local date as whole days since 1970-01-01.

        It changes at local midnight (unlike the UTC date) and never repeats (unlike
        ``homes.day_of_year`` or ``homes.weekday``), so it seeds what a household
        decides once a day: ``batch.uniform(salt, minute=batch.local_days())``.
        Added in API 1.1.
        """
        day_of_year = self.homes.day_of_year.astype(np.int64)
        # The local year is the UTC year, except around New Year where a home's local
        # date may already be (or still be) on the other side.
        utc = self.instant.astimezone(UTC)
        year = np.full(len(day_of_year), utc.year, dtype=np.int64)
        year = np.where((utc.month == 1) & (day_of_year > 300), year - 1, year)
        year = np.where((utc.month == 12) & (day_of_year < 60), year + 1, year)
        first = (year - 1970).astype("datetime64[Y]").astype("datetime64[D]").astype(np.int64)
        return first + day_of_year - 1

    def uniform(self, salt: int, minute: int | np.ndarray | None = None) -> np.ndarray:
        """Uniform numbers in [0, 1), one per device, seeded by device id, instant and
        ``salt``: the same tick gives the same numbers (use a new salt per purpose)."""
        return uniform(self.ids, self.minute if minute is None else minute, salt)

    def take(self, index) -> Batch:
        """The sub-batch of the devices selected by ``index`` (a mask or indices)."""
        return Batch(
            instant=self.instant,
            ids=self.ids[index],
            elapsed_h=self.elapsed_h[index],
            config={name: values[index] for name, values in self.config.items()},
            state=self.state.take(index),
            homes=self.homes.take(index),
            demand_w=self.demand_w[index] if len(self.demand_w) else self.demand_w,
        )


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread 64-bit hash, vectorised."""
    with np.errstate(over="ignore"):
        x = x.astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def uniform(keys: np.ndarray, step, salt: int) -> np.ndarray:
    """Deterministic uniforms in [0, 1) from integer keys, a time step and a salt."""
    with np.errstate(over="ignore"):
        k = np.asarray(keys).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        s = np.asarray(step).astype(np.int64).astype(np.uint64) * np.uint64(0xD1B54A32D192ED03)
        h = _mix(k ^ _mix(s + np.uint64(salt & 0xFFFFFFFF)))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def smooth_noise(keys: np.ndarray, hours: np.ndarray | float, period_h: float, salt: int) -> np.ndarray:
    """Noise in [0, 1) that drifts smoothly: random values every ``period_h`` hours,
    joined by a smooth (cosine) curve. Deterministic in keys, time and salt."""
    position = np.asarray(hours, dtype=float) / period_h
    step = np.floor(position)
    a = uniform(keys, step, salt)
    b = uniform(keys, step + 1, salt)
    t = (1 - np.cos(np.pi * (position - step))) / 2
    return a + (b - a) * t
