"""An EV through the real tick across gaps (beat stopped): it is drained for its
scheduled trip, from the scheduled departure to the scheduled return, and charges
only over the time it was really at home; the energy the home books is what flowed."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from freezegun import freeze_time

from drivers.ev.models import ElectricVehicle
from drivers.ev.simulate import is_away, simulate
from hems.sdk import Batch, State, integrate_flow
from hems.testing import run_tick

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 6, 22, tzinfo=UTC)  # a Monday; Berlin is UTC+2: away 05:00 to 16:00 UTC
BERLIN = ZoneInfo("Europe/Berlin")
HISTORY = """
query History($start: DateTime!, $end: DateTime!) {
  energyHistory(start: $start, end: $end, interval: DAY) { consumptionWh }
}
"""


@pytest.fixture
def car(user):
    car = ElectricVehicle(name="Car", owner=user, capacity_wh=75_000, level_wh=60_000, max_charge_w=11_000,
                          max_discharge_w=7_400, mode="charging", leaves_at=time(7), returns_at=time(18),
                          away_days="mon,tue,wed,thu,fri,sat,sun")  # fmt: skip
    car.full_clean()
    car.save()
    return car


@pytest.fixture
def weekday_car(user):
    """The default schedule: away 07:00 to 18:00 on weekdays, charging at home."""
    car = ElectricVehicle(name="Car", owner=user, capacity_wh=75_000, level_wh=40_000, max_charge_w=11_000,
                          max_discharge_w=7_400, mode="charging")  # fmt: skip
    car.full_clean()
    car.save()
    return car


def level(car) -> float:
    return ElectricVehicle.objects.get(pk=car.pk).level_wh


def tick(moment: datetime) -> None:
    with freeze_time(moment):
        run_tick(moment)


def booked(api, user, day: datetime) -> float:
    """The home's consumption booked on a (local) day, in Wh: here, the car's charging."""
    start = day.astimezone(BERLIN).replace(hour=0, minute=0)
    variables = {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat()}
    return api.data(HISTORY, variables, user=user)["energyHistory"][0]["consumptionWh"]


def berlin(day: tuple[int, int, int], hour: int, minute: int = 0) -> datetime:
    return datetime(*day, hour, minute, tzinfo=BERLIN)


MONDAY = (2026, 6, 22)


def test_back_after_the_gap_it_lost_the_drive_and_charged_the_rest(car):
    run_tick(DAY.replace(hour=4, minute=59))
    run_tick(DAY.replace(hour=5))  # it leaves
    left_with = level(car)
    run_tick(DAY.replace(hour=15, minute=30))  # still away; then beat stops for an hour
    run_tick(DAY.replace(hour=16, minute=30))  # it came back at 16:00 and charged half an hour
    assert level(car) == pytest.approx(left_with - 3000 * 11 + 11_000 * 0.5)


def test_at_home_an_hour_without_ticks_charges_an_hour(car):
    night = DAY.replace(hour=20)
    run_tick(night)
    before = level(car)
    run_tick(night + timedelta(hours=1))
    assert level(car) == pytest.approx(before + 11_000 * 1.0)


def test_ticks_at_noon_and_six_do_not_charge_while_it_was_away(api, user, weekday_car):
    """Issue 11, item 14: the 18:00 tick after a 12:00 one charged for the whole gap
    (the 2 h cap, 22 kWh) although the car was on the road until 18:00."""
    tick(berlin(MONDAY, 6, 59))
    left_with = level(weekday_car)
    tick(berlin(MONDAY, 12))
    tick(berlin(MONDAY, 18))  # back this very minute: nothing charged yet
    assert level(weekday_car) == pytest.approx(left_with - 3000 * 11)
    assert booked(api, user, berlin(MONDAY, 12)) == pytest.approx(11_000 / 60)  # the 06:59 minute only
    tick(berlin(MONDAY, 18, 1))
    assert level(weekday_car) == pytest.approx(left_with - 3000 * 11 + 11_000 / 60)


def test_a_gap_across_the_departure_charges_until_it_leaves_and_drains_from_then(api, user, weekday_car):
    tick(berlin(MONDAY, 6))
    start = level(weekday_car)
    tick(berlin(MONDAY, 9))  # three hours, two of them counted (the cap): 07:00 to 09:00 away
    car = ElectricVehicle.objects.get(pk=weekday_car.pk)
    assert car.state.available is False
    assert car.state.since == berlin(MONDAY, 7)  # the scheduled departure, not the tick that saw it
    assert car.level_wh == pytest.approx(start)  # the capped span began at 07:00: nothing to charge
    tick(berlin(MONDAY, 18, 30))
    assert level(weekday_car) == pytest.approx(start - 3000 * 11 + 11_000 * 0.5)


def test_a_gap_across_the_departure_within_the_cap(api, user, weekday_car):
    tick(berlin(MONDAY, 6, 15))
    start = level(weekday_car)
    tick(berlin(MONDAY, 8))  # charged 06:15 to 07:00, then left
    assert level(weekday_car) == pytest.approx(start + 11_000 * 0.75)
    assert booked(api, user, berlin(MONDAY, 8)) == pytest.approx(11_000 / 60 + 11_000 * 0.75)
    tick(berlin(MONDAY, 18))
    assert level(weekday_car) == pytest.approx(start + 11_000 * 0.75 - 3000 * 11)


def test_a_gap_over_the_whole_trip_still_drains_the_whole_trip(weekday_car):
    tick(berlin(MONDAY, 6))
    start = level(weekday_car)
    tick(berlin(MONDAY, 19))  # the last two hours are counted: away until 18:00, home since
    car = ElectricVehicle.objects.get(pk=weekday_car.pk)
    assert car.state.available is True and car.state.since is None
    assert car.level_wh == pytest.approx(start - 3000 * 11 + 11_000 * 1.0)


def test_an_overnight_gap_at_home_charges_the_capped_span(weekday_car):
    tick(berlin(MONDAY, 22))
    start = level(weekday_car)
    tick(berlin((2026, 6, 23), 3))  # Tuesday 03:00: home all night, two hours counted
    assert level(weekday_car) == pytest.approx(start + 11_000 * 2.0)


def test_a_weekend_gap_across_the_usual_departure_is_spent_at_home(weekday_car):
    saturday = (2026, 6, 27)
    tick(berlin(saturday, 6))
    start = level(weekday_car)
    tick(berlin(saturday, 8))
    car = ElectricVehicle.objects.get(pk=weekday_car.pk)
    assert car.state.available is True and car.level_wh == pytest.approx(start + 11_000 * 2.0)


def old_simulate(batch: Batch) -> State:
    """The EV physics before issue 11 (abridged): the trip is noticed by whichever tick
    comes, and a return charges for the whole elapsed time."""
    c, state = batch.config, batch.state
    now = batch.instant.timestamp()
    away = is_away(batch)
    was_away = ~np.isnan(state.since)
    returning = ~away & was_away
    level = np.nan_to_num(state.level_wh).copy()
    hours_away = np.where(returning, (now - np.nan_to_num(state.since, nan=now)) / 3600.0, 0.0)
    level = np.where(returning, np.maximum(level - c["drain_wh_per_hour"] * hours_away, 0.0), level)
    since = np.where(away & ~was_away, now, np.where(returning, np.nan, state.since))
    desired = np.where(away, 0.0, np.where(c["mode"] == "charging", c["max_charge_w"], 0.0))
    flow, new_level = integrate_flow(
        desired, level, c["capacity_wh"], c["max_charge_w"], c["max_discharge_w"], batch.elapsed_h
    )
    return State(~away, np.abs(flow), flow, np.where(away, level, new_level), since, state.aux.copy())


def test_the_contract_kit_catches_the_old_physics():
    from drivers.ev.tests.test_contract import TestElectricVehicleContract

    contract = TestElectricVehicleContract()
    contract.assert_gap_conserves_energy("electric_vehicle", simulate)
    with pytest.raises(AssertionError, match="over a 120-minute gap|level after a gap"):
        contract.assert_gap_conserves_energy("electric_vehicle", old_simulate)
