"""The EV on its schedule, through the real tick and the API: away on weekdays from
07:00 to 18:00 local time, back with about 3 kWh used per hour away."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from freezegun import freeze_time

from drivers.ev.models import ElectricVehicle
from hems.testing import run_tick

pytestmark = pytest.mark.django_db

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = (2026, 6, 22)
CAR = """
{ allDevices { status powerW ... on ElectricVehicle { levelWh flowW } } }
"""
STATS = "{ energyStats { currentConsumption currentStorage { currentLevelWh } } }"


@pytest.fixture
def car(user):
    car = ElectricVehicle(name="Car", owner=user, capacity_wh=75_000, level_wh=40_000, max_charge_w=11_000,
                          max_discharge_w=7_400, mode="charging")  # fmt: skip
    car.full_clean()
    car.save()
    return car


def at(hour, minute=0, day=MONDAY):
    return datetime(*day, hour, minute, tzinfo=BERLIN)


def tick(moment):
    with freeze_time(moment):
        run_tick(timezone.now())


def read(api, user, moment):
    with freeze_time(moment):
        return api.data(CAR, user=user)["allDevices"][0], api.data(STATS, user=user)["energyStats"]


def test_home_charging_before_leaving(api, user, car):
    tick(at(6, 58))
    device, stats = read(api, user, at(6, 58))
    assert device["status"] == "ONLINE" and device["flowW"] == 11_000
    assert stats["currentConsumption"] == 11_000  # charging counts as consumption
    assert device["levelWh"] == pytest.approx(40_000 + 11_000 / 60)


def test_away_at_ten_on_a_weekday_with_its_level_unchanged(api, user, car):
    tick(at(6, 59))
    tick(at(7, 0))  # it charged the minute up to 07:00, then left
    level_before = ElectricVehicle.objects.get(pk=car.pk).level_wh
    assert level_before == pytest.approx(40_000 + 2 * 11_000 / 60)
    tick(at(10, 0))
    device, stats = read(api, user, at(10, 0))
    assert device == {"status": "OFFLINE", "powerW": 0, "levelWh": level_before, "flowW": 0}
    assert stats["currentConsumption"] == 0
    assert stats["currentStorage"]["currentLevelWh"] == level_before


def test_back_at_six_lower_by_about_three_kwh_per_hour_away(api, user, car):
    tick(at(6, 59))
    level_left = ElectricVehicle.objects.get(pk=car.pk).level_wh
    for moment in (at(7, 0), at(12, 0), at(17, 59)):
        tick(moment)
    tick(at(18, 0))
    device, _ = read(api, user, at(18, 0))
    assert device["status"] == "ONLINE"
    used = level_left - device["levelWh"] + 11_000 / 60  # it charged the minute up to 07:00 before leaving
    assert used == pytest.approx(3_000 * 11)  # from 07:00 to 18:00, whichever ticks noticed them


def test_at_home_all_weekend(api, user, car):
    saturday = (2026, 6, 27)
    for hour in (7, 10, 17):
        tick(at(hour, 0, saturday))
    device, _ = read(api, user, at(17, 0, saturday))
    assert device["status"] == "ONLINE"


def test_the_drain_never_takes_the_level_below_zero(api, user):
    car = ElectricVehicle(name="Small", owner=user, capacity_wh=20_000, level_wh=10_000, max_charge_w=3_000,
                          max_discharge_w=3_000, mode="idle")  # fmt: skip
    car.full_clean()
    car.save()
    for moment in (at(6, 59), at(7, 0), at(18, 0)):
        tick(moment)
    assert ElectricVehicle.objects.get(pk=car.pk).level_wh == 0
