"""The electric vehicle through the API, and its two roles in energyStats."""

import pytest

from drivers.ev.models import ElectricVehicle
from hems.testing import set_state

pytestmark = pytest.mark.django_db

UPDATE = """
mutation U($id: ID!, $input: UpdateDeviceInput!) {
  updateDevice(id: $id, input: $input) { device { status ... on ElectricVehicle { mode flowW levelWh awayDays } } }
}
"""
STATS = """
{ energyStats { currentConsumption currentStorageFlow netGridFlow currentStorage { currentLevelWh totalCapacityWh } } }
"""


@pytest.fixture
def car(user):
    car = ElectricVehicle(
        name="Car", owner=user, capacity_wh=75_000, level_wh=40_000, max_charge_w=11_000, max_discharge_w=7_400
    )
    car.full_clean()
    car.save()
    return car


def test_an_ev_is_switched_to_discharging(api, user, car):
    device = api.data(UPDATE, {"id": car.pk, "input": {"electricVehicle": {"mode": "DISCHARGING"}}}, user=user)
    assert device["updateDevice"]["device"]["mode"] == "DISCHARGING"
    car.refresh_from_db()
    assert car.mode == "discharging" and car.capacity_wh == 75_000


def test_an_ev_cannot_be_put_in_auto(api, user, car):
    error = api.error(UPDATE, {"id": car.pk, "input": {"electricVehicle": {"mode": "AUTO"}}}, user=user)
    assert error["extensions"] == {**error["extensions"], "code": "BAD_USER_INPUT", "field": "electricVehicle.mode"}
    car.refresh_from_db()
    assert car.mode == "charging"


def test_the_level_cannot_be_rewritten_by_an_update(api, user, car):
    error = api.error(UPDATE, {"id": car.pk, "input": {"electricVehicle": {"levelWh": 1}}}, user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "levelWh"


def test_a_charging_ev_counts_as_consumption_not_storage(api, user, car):
    set_state(car, power_w=11_000, flow_w=11_000)
    stats = api.data(STATS, user=user)["energyStats"]
    assert stats["currentConsumption"] == 11_000 and stats["currentStorageFlow"] == 0
    assert stats["netGridFlow"] == 11_000


def test_a_discharging_ev_is_storage_outflow(api, user, car):
    set_state(car, power_w=3_000, flow_w=-3_000)
    stats = api.data(STATS, user=user)["energyStats"]
    assert stats["currentConsumption"] == 0 and stats["currentStorageFlow"] == -3_000
    assert stats["netGridFlow"] == -3_000


def test_an_ev_away_counts_its_last_level_and_no_power(api, user, car):
    set_state(car, available=False, power_w=11_000, flow_w=11_000, level_wh=35_000)
    stats = api.data(STATS, user=user)["energyStats"]
    assert stats["currentConsumption"] == 0 and stats["currentStorageFlow"] == 0
    assert stats["currentStorage"] == {"currentLevelWh": 35_000, "totalCapacityWh": 75_000}
    row = api.data("{ allDevices { status powerW ... on ElectricVehicle { flowW levelWh } } }", user=user)
    assert row["allDevices"] == [{"status": "OFFLINE", "powerW": 0, "flowW": 0, "levelWh": 35_000}]


def test_an_ev_set_offline_by_its_owner_still_counts_its_level(api, user, car):
    api.data(UPDATE, {"id": car.pk, "input": {"status": "OFFLINE"}}, user=user)
    stats = api.data(STATS, user=user)["energyStats"]
    assert stats["currentStorage"]["currentLevelWh"] == 40_000
