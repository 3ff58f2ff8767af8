"""Build simulation batches by hand, for a driver's physics tests.

``make_batch`` puts devices of one kind at a home and an instant, with the same
environment (clock, sun, weather) the tick computes, optionally overridden::

    batch = make_batch("pool_pump", noon, [{"rated_power_w": 1100.0}], cloud_cover=0.0)
    state = registry().kind("pool_pump").simulate(batch)
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
from django.conf import settings

from hems.plugins import registry
from hems.sdk.simulation import Batch, Homes, State
from hems.sdk.types import DeviceType
from hems.simulation.engine import environment_of
from hems.simulation.loader import Homes as HomeRows
from hems.simulation.span import simulate_span


def as_array(values: list[Any]) -> np.ndarray:
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, bool):
        return np.array([bool(v) for v in values])
    if isinstance(sample, time):
        return np.array([np.nan if v is None else v.hour + v.minute / 60 + v.second / 3600 for v in values])
    if isinstance(sample, (datetime, date)):
        return np.array([np.nan if v is None else v.timestamp() for v in values])
    if isinstance(sample, str):
        return np.array(["" if v is None else str(v) for v in values], dtype=str)
    return np.array([np.nan if v is None else float(v) for v in values])


def config_arrays(kind_key: str, attributes: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """The kind's attributes as the tick passes them: defaults filled in from the model."""
    kind = registry().kind(kind_key)
    arrays = {}
    for name in kind.fields:
        try:
            field = kind.model._meta.get_field(name)
        except Exception:
            continue
        values = [a[name] if name in a else field.get_default() for a in attributes]
        values = [getattr(v, "value", v) for v in values]
        arrays[name] = as_array(values)
    return arrays


def initial_state(kind_key: str, attributes: list[dict[str, Any]]) -> State:
    kind = registry().kind(kind_key)
    state = State.empty(len(attributes))
    if kind.device_type == DeviceType.STORAGE:
        state.level_wh = np.array([float(a.get("level_wh", 0.0)) for a in attributes])
    return state


@lru_cache(maxsize=8192)  # the sun's position is the costly part; the kit asks for the same minutes often
def home_environment(
    instant: datetime,
    latitude: float | None = None,
    longitude: float | None = None,
    time_zone: str | None = None,
    cloud_cover: float | None = None,
    temperature_c: float | None = None,
) -> Homes:
    """The environment the tick computes for one home at an instant, optionally overridden."""
    home = HomeRows(
        owner=np.array([1]),
        latitude=np.array([settings.HEMS_DEFAULT_LATITUDE if latitude is None else latitude]),
        longitude=np.array([settings.HEMS_DEFAULT_LONGITUDE if longitude is None else longitude]),
        time_zone=np.array([time_zone or settings.HEMS_DEFAULT_TIME_ZONE]),
    )
    env = environment_of(instant, home)
    if cloud_cover is not None:
        env = replace(env, cloud_cover=np.array([cloud_cover]))
    if temperature_c is not None:
        env = replace(env, temperature_c=np.array([temperature_c]))
    return env


def make_batch(
    kind_key: str,
    instant: datetime,
    attributes: list[dict[str, Any]],
    *,
    latitude: float | None = None,
    longitude: float | None = None,
    time_zone: str | None = None,
    state: State | None = None,
    elapsed_h: float = 1 / 60,
    ids: list[int] | None = None,
    demand_w: list[float] | None = None,
    cloud_cover: float | None = None,
    temperature_c: float | None = None,
) -> Batch:
    """A batch of devices of one kind, all in one home (the default location unless given)."""
    n = len(attributes)
    env = home_environment(instant, latitude, longitude, time_zone, cloud_cover, temperature_c)
    return Batch(
        instant=instant,
        ids=np.array(ids if ids is not None else range(1, n + 1), dtype=np.int64),
        elapsed_h=np.full(n, elapsed_h),
        config=config_arrays(kind_key, attributes),
        state=state if state is not None else initial_state(kind_key, attributes),
        homes=env.take(np.zeros(n, dtype=np.intp)),
        demand_w=np.array(demand_w if demand_w is not None else [0.0] * n),
    )


def run_day(
    kind_key: str, attributes: list[dict[str, Any]], start: datetime, step_minutes: int = 10, **batch_options
) -> list[tuple[datetime, State]]:
    """Simulate the devices every ``step_minutes`` for 24 hours, carrying the state."""
    simulate = registry().kind(kind_key).simulate
    state = None
    results = []
    for i in range(24 * 60 // step_minutes):
        instant = start + timedelta(minutes=i * step_minutes)
        batch = make_batch(kind_key, instant, attributes, state=state, elapsed_h=step_minutes / 60, **batch_options)
        state = simulate(batch)
        results.append((instant, state))
    return results


ENVIRONMENT_OPTIONS = ("latitude", "longitude", "time_zone", "cloud_cover", "temperature_c")


def energy_over(
    kind_key: str,
    attributes: list[dict[str, Any]],
    end: datetime,
    minutes: int,
    *,
    every_minute: bool,
    state: State | None = None,
    simulate=None,
    **batch_options,
) -> tuple[dict[str, np.ndarray], State]:
    """Each device's energy (Wh) over the ``minutes`` before ``end``, and its state at ``end``.

    ``every_minute``: a tick at each minute, as the tick runs normally; otherwise one
    tick at ``end`` covering the whole gap, as after missed ticks (through the core's
    sub-steps, exactly as the tick does). Powers count over the span they cover:
    ``energy_wh`` from ``power_w``, ``charge_wh`` and ``discharge_wh`` from ``flow_w``.
    """
    simulate = simulate or registry().kind(kind_key).simulate
    where = {k: v for k, v in batch_options.items() if k in ENVIRONMENT_OPTIONS}
    ticks = [(end - timedelta(minutes=minutes - 1 - i), 1 / 60) for i in range(minutes)] if every_minute else []
    ticks = ticks or [(end, minutes / 60)]
    n = len(attributes)
    energy = {"energy_wh": np.zeros(n), "charge_wh": np.zeros(n), "discharge_wh": np.zeros(n)}
    for instant, hours in ticks:
        batch = make_batch(kind_key, instant, attributes, state=state, elapsed_h=hours, **batch_options)
        state = simulate_span(simulate, batch, lambda moment: home_environment(moment, **where))
        flow = np.nan_to_num(np.asarray(state.flow_w, dtype=float))
        energy["energy_wh"] += np.asarray(state.power_w, dtype=float) * hours
        energy["charge_wh"] += np.maximum(flow, 0.0) * hours
        energy["discharge_wh"] += np.maximum(-flow, 0.0) * hours
    return energy, state
