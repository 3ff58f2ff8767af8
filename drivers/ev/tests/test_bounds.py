"""Property-style checks over many configurations like ``manage.py seed`` makes (the
kind's example scaled by 0.6 to 1.4) and a spread of schedules and time zones: the
power never exceeds the kind's declared bound (what the tick clips to, and warns
about), not even by round-off, and the energy that flowed is the level's change."""

import random
from datetime import UTC, datetime, time, timedelta

import numpy as np
import pytest

from drivers.ev.driver import ELECTRIC_VEHICLE
from hems.testing import energy_over, make_batch

START = datetime(2026, 6, 22, 10, 20, tzinfo=UTC)  # a Monday, as bench/tick.py runs
# (latitude, longitude, zone): homes at home, away, leaving and returning around START.
PLACES = [
    (33.45, -112.07, "America/Phoenix"),
    (40.71, -74.01, "America/New_York"),
    (52.52, 13.40, "Europe/Berlin"),
    (28.61, 77.21, "Asia/Kolkata"),
    (35.68, 139.69, "Asia/Tokyo"),
    (-33.87, 151.21, "Australia/Sydney"),
]
SCHEDULES = [
    (time(7), time(18), "mon,tue,wed,thu,fri"),  # the default, which seeding keeps
    (time(22), time(6), "mon,wed,sun"),  # overnight
    (time(10, 30), time(10, 45), "mon"),  # short, inside a gap
    (time(0), time(23, 45), "sun,mon,tue"),  # nearly a whole day, on consecutive days
    (time(7), time(18), ""),  # never leaves
]


def seeded_like(count: int, seed: int = 1) -> list[dict]:
    """The kind's example scaled as ``manage.py seed`` scales it (powers and energies
    alike, one decimal), with a schedule, a mode and a starting level each; no drain,
    so that every change of the level is energy that flowed at the terminals."""
    rng = random.Random(seed)
    cars = []
    for i in range(count):
        factor = rng.uniform(0.6, 1.4)
        car = {k: round(v * factor, 1) if k.endswith(("_w", "_wh")) else v for k, v in ELECTRIC_VEHICLE.example.items()}
        leaves, returns, days = SCHEDULES[i % len(SCHEDULES)]
        car |= {"leaves_at": leaves, "returns_at": returns, "away_days": days, "drain_wh_per_hour": 0.0}
        car["mode"] = ("charging", "discharging", "idle")[rng.randrange(3)] if i % 4 else "charging"
        car["level_wh"] = round(car["capacity_wh"] * rng.choice((0.0, 0.5, rng.random(), 1.0)), 1)
        cars.append(car)
    return cars


CARS = seeded_like(120)


def limits(batch) -> np.ndarray:
    return ELECTRIC_VEHICLE.power_limit_w(batch.config, len(batch))


def assert_within_and_conserved(batch, before, out, when: str) -> None:
    c = batch.config
    over = np.flatnonzero(~(out.power_w <= limits(batch)))
    assert not len(over), (
        f"{when}: power {out.power_w[over].tolist()} W above the bound {limits(batch)[over].tolist()} W"
    )
    assert (out.flow_w <= c["max_charge_w"]).all() and (-out.flow_w <= c["max_discharge_w"]).all(), when
    np.testing.assert_array_equal(out.power_w, np.abs(out.flow_w), err_msg=when)
    moved = out.flow_w * batch.elapsed_h
    np.testing.assert_allclose(moved, out.level_wh - before, rtol=1e-9, atol=1e-6, err_msg=when)


@pytest.mark.parametrize("place", PLACES, ids=[p[2] for p in PLACES])
def test_one_minute_ticks_stay_within_the_rates(place):
    """A warm-up tick, then ticks a minute apart, as bench/tick.py runs them."""
    lat, lon, zone = place
    simulate = ELECTRIC_VEHICLE.simulate
    where = {"latitude": lat, "longitude": lon, "time_zone": zone}
    state = simulate(make_batch("electric_vehicle", START - timedelta(minutes=1), CARS, **where))
    for minute in range(30):
        batch = make_batch("electric_vehicle", START + timedelta(minutes=minute), CARS, state=state, **where)
        out = simulate(batch)
        assert_within_and_conserved(batch, state.level_wh, out, f"{batch.instant} {zone}")
        state = out


@pytest.mark.parametrize("place", PLACES, ids=[p[2] for p in PLACES])
@pytest.mark.parametrize("gap", [2, 7, 37, 125])
def test_a_tick_after_missed_ones_stays_within_the_rates(place, gap):
    """One tick covering a gap, through the tick's sub-steps (longer than five minutes):
    the mean over them is held within the rates too."""
    lat, lon, zone = place
    where = {"latitude": lat, "longitude": lon, "time_zone": zone}
    state = ELECTRIC_VEHICLE.simulate(make_batch("electric_vehicle", START, CARS, **where))
    for k in range(1, 4):
        end = START + timedelta(minutes=gap * k)
        _, out = energy_over("electric_vehicle", CARS, end, gap, every_minute=False, state=state, **where)
        batch = make_batch("electric_vehicle", end, CARS, state=state, elapsed_h=gap / 60, **where)
        assert_within_and_conserved(batch, state.level_wh, out, f"{end} after {gap} min {zone}")
        state = out
