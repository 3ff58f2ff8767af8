"""The battery through the GraphQL API, as a client writes it."""

import pytest

pytestmark = pytest.mark.django_db

CREATE = """
mutation {
  createDevice(input: {
    name: "Garage battery"
    battery: {capacityWh: 13500, levelWh: 6750, maxChargeW: 5000, maxDischargeW: 7000, roundTripEfficiency: 0.92}
  }) { device { id kind deviceType ... on Battery { capacityWh levelWh percentage mode flowW roundTripEfficiency } } }
}
"""


def test_a_battery_is_created_and_read_through_its_fragment(api, user):
    device = api.data(CREATE, user=user)["createDevice"]["device"]
    assert device["kind"] == "battery" and device["deviceType"] == "STORAGE"
    assert device["capacityWh"] == 13500 and device["levelWh"] == 6750 and device["percentage"] == 50
    assert device["mode"] == "AUTO" and device["flowW"] == 0 and device["roundTripEfficiency"] == 0.92
    listed = api.data("{ allDevices { ... on Battery { capacityWh } } }", user=user)["allDevices"]
    assert listed == [{"capacityWh": 13500}]


def test_a_negative_capacity_is_refused_with_the_field_named(api, user):
    error = api.error(CREATE.replace("capacityWh: 13500", "capacityWh: -1"), user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "battery.capacityWh"
    assert api.data("{ allDevices { id } }", user=user) == {"allDevices": []}


def test_a_level_above_capacity_is_refused(api, user):
    error = api.error(CREATE.replace("levelWh: 6750", "levelWh: 20000"), user=user)
    assert error["extensions"]["field"] == "battery.levelWh"
    assert "cannot exceed the capacity" in error["message"]
