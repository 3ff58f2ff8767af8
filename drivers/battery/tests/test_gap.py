"""A battery through the real tick across an hour with no ticks (beat stopped): the
next tick charges it for the whole hour, up to HEMS_TICK_MAX_ELAPSED_HOURS."""

from datetime import UTC, datetime, timedelta

import pytest

from drivers.battery.models import Battery
from hems.testing import run_tick

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)
LEG = 0.9**0.5  # each leg of a 90 % round trip


@pytest.fixture
def battery(user):
    battery = Battery(name="Wall", owner=user, capacity_wh=13_500, level_wh=1000, max_charge_w=5000,
                      max_discharge_w=5000, round_trip_efficiency=0.9, mode="charging")  # fmt: skip
    battery.full_clean()
    battery.save()
    return battery


def level(battery) -> float:
    return Battery.objects.get(pk=battery.pk).level_wh


def test_an_hour_without_ticks_charges_an_hour(battery):
    run_tick(T0)
    before = level(battery)
    run_tick(T0 + timedelta(hours=1))
    assert level(battery) == pytest.approx(before + 5000 * 1.0 * LEG)


def test_a_longer_gap_charges_up_to_the_limit(battery, settings):
    settings.HEMS_TICK_MAX_ELAPSED_HOURS = 2
    run_tick(T0)
    before = level(battery)
    run_tick(T0 + timedelta(hours=3))
    assert level(battery) == pytest.approx(before + 5000 * 2.0 * LEG)
