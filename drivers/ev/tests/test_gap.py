"""An EV through the real tick across gaps (beat stopped): on return it has lost the
drive's energy for the real time away, and it charges over the real time since."""

from datetime import UTC, datetime, time, timedelta

import pytest

from drivers.ev.models import ElectricVehicle
from hems.testing import run_tick

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 6, 22, tzinfo=UTC)  # a Monday; Berlin is UTC+2: away 05:00 to 16:00 UTC


@pytest.fixture
def car(user):
    car = ElectricVehicle(name="Car", owner=user, capacity_wh=75_000, level_wh=60_000, max_charge_w=11_000,
                          max_discharge_w=7_400, mode="charging", leaves_at=time(7), returns_at=time(18),
                          away_days="mon,tue,wed,thu,fri,sat,sun")  # fmt: skip
    car.full_clean()
    car.save()
    return car


def level(car) -> float:
    return ElectricVehicle.objects.get(pk=car.pk).level_wh


def test_back_after_the_gap_it_lost_the_drive_and_charged_the_rest(car):
    run_tick(DAY.replace(hour=4, minute=59))
    run_tick(DAY.replace(hour=5))  # it leaves
    left_with = level(car)
    run_tick(DAY.replace(hour=15, minute=30))  # still away; then beat stops for an hour
    run_tick(DAY.replace(hour=16, minute=30))
    assert level(car) == pytest.approx(left_with - 3000 * 11.5 + 11_000 * 1.0)


def test_at_home_an_hour_without_ticks_charges_an_hour(car):
    night = DAY.replace(hour=20)
    run_tick(night)
    before = level(car)
    run_tick(night + timedelta(hours=1))
    assert level(car) == pytest.approx(before + 11_000 * 1.0)
