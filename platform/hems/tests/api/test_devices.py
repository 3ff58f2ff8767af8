"""Device queries and mutations over HTTP, for whatever kinds are installed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphene.utils.str_converters import to_camel_case

from hems.devices.models import Device, DeviceState
from hems.plugins import registry
from hems.testing.api import kind_fragment, kind_input
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

ALL_DEVICES = """
query All {
  allDevices {
    id name kind deviceType status powerW lastSimulatedAt createdAt updatedAt
    ... on StorageDevice { capacityWh levelWh percentage mode flowW }
  }
}
"""
DEVICE = "query One($id: ID!) { device(id: $id) { id name kind } }"
CREATE = "mutation C($input: CreateDeviceInput!) { createDevice(input: $input) { device { id name kind status } } }"
UPDATE = """
mutation U($id: ID!, $input: UpdateDeviceInput!) {
  updateDevice(id: $id, input: $input) { device { id name status } }
}
"""
DELETE = "mutation D($id: ID!) { deleteDevice(id: $id) { id } }"


def example_input(kind_key: str, name: str = "New device") -> dict:
    return {"name": name, to_camel_case(kind_key): kind_input(kind_key, dict(registry().kind(kind_key).example))}


def test_all_devices_lists_only_the_callers_newest_first(api, user, other_user):
    mine = [make_device(user, key, name=f"mine {key}") for key in kind_keys()]
    make_device(other_user, kind_keys()[0], name="theirs")
    listed = api.data(ALL_DEVICES, user=user)["allDevices"]
    assert [d["name"] for d in listed] == [d.name for d in reversed(mine)]
    for row in listed:
        kind = registry().kind(row["kind"])
        assert row["deviceType"] == kind.device_type.upper()
        assert row["status"] == "ONLINE" and row["powerW"] == 0 and row["lastSimulatedAt"] is None
        if kind.device_type == "storage":
            assert row["capacityWh"] > 0 and 0 <= row["percentage"] <= 100 and row["flowW"] == 0


def test_all_devices_costs_the_same_queries_for_one_device_and_for_sixty(api, user):
    def count():
        with CaptureQueriesContext(connection) as queries:
            api.data(ALL_DEVICES, user=user)
        return len(queries)

    make_device(user, kind_keys()[0])
    one = count()
    for i in range(59):
        make_device(user, kind_keys()[i % len(kind_keys())], name=f"device {i}")
    sixty = count()
    assert Device.objects.filter(owner=user).count() == 60
    assert one == sixty <= 2  # the caller from the token, then the devices


def test_all_devices_reads_every_kinds_own_fields_through_fragments(api, user):
    for key in kind_keys():
        make_device(user, key)
    fragments = " ".join(kind_fragment(key) for key in kind_keys())
    listed = api.data(f"{{ allDevices {{ kind {fragments} }} }}", user=user)["allDevices"]
    for row in listed:
        expected = kind_input(row["kind"], dict(registry().kind(row["kind"]).example))
        for name, value in expected.items():
            assert row[name] == value, (row["kind"], name)


def test_a_user_with_no_devices_gets_an_empty_list(api, user):
    assert api.data(ALL_DEVICES, user=user) == {"allDevices": []}


@pytest.mark.parametrize("kind_key", kind_keys())
def test_create_each_kind_with_its_own_fields(api, user, kind_key):
    created = api.data(CREATE, {"input": example_input(kind_key, "Made")}, user=user)["createDevice"]["device"]
    assert created["kind"] == kind_key and created["status"] == "ONLINE"
    device = Device.objects.get(pk=created["id"])
    assert device.owner == user and device.kind == kind_key
    assert DeviceState.objects.filter(pk=device.pk).exists()


def test_create_offline(api, user):
    variables = {"input": {**example_input(kind_keys()[0]), "status": "OFFLINE"}}
    assert api.data(CREATE, variables, user=user)["createDevice"]["device"]["status"] == "OFFLINE"


def test_zero_kind_fields_are_refused_and_nothing_is_written(api, user):
    error = api.error(CREATE, {"input": {"name": "Nothing"}}, user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "kind"
    assert not Device.objects.exists()


def test_two_kind_fields_are_refused_and_nothing_is_written(api, user):
    first, second = kind_keys()[:2]
    variables = {"input": {**example_input(first), **{k: v for k, v in example_input(second).items() if k != "name"}}}
    error = api.error(CREATE, variables, user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] in {to_camel_case(first), to_camel_case(second)}
    assert not Device.objects.exists()


def test_an_empty_name_is_refused_naming_the_field(api, user):
    error = api.error(CREATE, {"input": example_input(kind_keys()[0], "   ")}, user=user)
    assert error["extensions"] == {**error["extensions"], "code": "BAD_USER_INPUT", "field": "name"}
    assert not Device.objects.exists()


def test_a_wrongly_typed_value_is_refused_naming_the_field(api, user):
    key = kind_keys()[0]
    variables = example_input(key)
    first_field = next(iter(variables[to_camel_case(key)]))
    variables[to_camel_case(key)][first_field] = "a lot"
    error = api.error(CREATE, {"input": variables}, user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == first_field
    assert not Device.objects.exists()


def test_a_partial_update_changes_only_what_it_names(api, user):
    device = make_device(user, kind_keys()[0], name="Old name")
    before = Device.objects.get(pk=device.pk)
    updated = api.data(UPDATE, {"id": device.pk, "input": {"name": "New name"}}, user=user)["updateDevice"]["device"]
    assert updated == {"id": str(device.pk), "name": "New name", "status": "ONLINE"}
    after = Device.objects.get(pk=device.pk)
    assert after.updated_at > before.updated_at and after.created_at == before.created_at


def test_a_device_set_offline_reports_no_power(api, user):
    device = make_device(user, kind_keys()[0])
    DeviceState.objects.filter(pk=device.pk).update(power_w=1500)
    assert api.data(ALL_DEVICES, user=user)["allDevices"][0]["powerW"] == 1500
    api.data(UPDATE, {"id": device.pk, "input": {"status": "OFFLINE"}}, user=user)
    row = api.data(ALL_DEVICES, user=user)["allDevices"][0]
    assert row["status"] == "OFFLINE" and row["powerW"] == 0


def test_naming_another_kinds_field_in_an_update_is_refused(api, user):
    first, second = kind_keys()[:2]
    device = make_device(user, first, name="Unchanged")
    other = {k: v for k, v in example_input(second)[to_camel_case(second)].items() if k != "levelWh"}
    error = api.error(UPDATE, {"id": device.pk, "input": {"name": "Changed", to_camel_case(second): other}}, user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == to_camel_case(second)
    assert Device.objects.get(pk=device.pk).name == "Unchanged"


def test_an_invalid_update_writes_nothing(api, user):
    device = make_device(user, kind_keys()[0], name="Unchanged")
    error = api.error(UPDATE, {"id": device.pk, "input": {"name": "Changed", "status": None}}, user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "status"
    assert Device.objects.get(pk=device.pk).name == "Unchanged"


def test_delete_removes_the_device_and_returns_its_id(api, user):
    device = make_device(user, kind_keys()[0])
    assert api.data(DELETE, {"id": device.pk}, user=user) == {"deleteDevice": {"id": str(device.pk)}}
    assert not Device.objects.filter(pk=device.pk).exists()
    assert not DeviceState.objects.filter(pk=device.pk).exists()


@pytest.mark.parametrize(
    ("operation", "query", "variables"),
    [
        ("device", DEVICE, {}),
        ("updateDevice", UPDATE, {"input": {"name": "Stolen", "status": "OFFLINE"}}),
        ("deleteDevice", DELETE, {}),
    ],
)
def test_another_users_device_answers_exactly_as_a_missing_one(api, user, other_user, operation, query, variables):
    theirs = make_device(other_user, kind_keys()[0], name="Theirs")
    missing = api.execute(query, {**variables, "id": theirs.pk + 1000}, user=user)
    foreign = api.execute(query, {**variables, "id": theirs.pk}, user=user)
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert foreign["errors"][0]["message"] == missing["errors"][0]["message"]
    assert foreign["data"] == missing["data"]
    reloaded = Device.objects.get(pk=theirs.pk)
    assert (reloaded.name, reloaded.status) == ("Theirs", "online")


@pytest.mark.parametrize("bad_id", ["abc", "-1", "0", "99999999999999999999999"])
def test_a_malformed_id_is_not_found(api, user, bad_id):
    assert api.error(DEVICE, {"id": bad_id}, user=user)["extensions"]["code"] == "NOT_FOUND"


def test_device_returns_the_callers_device(api, user):
    device = make_device(user, kind_keys()[0], name="Mine")
    assert api.data(DEVICE, {"id": device.pk}, user=user)["device"] == {
        "id": str(device.pk), "name": "Mine", "kind": device.kind,
    }  # fmt: skip


def test_a_device_whose_driver_is_missing_is_still_listed(api, user):
    device = make_device(user, kind_keys()[0], name="Orphan")
    # Simulate an uninstalled driver: the kind is known to the database, not to this process.
    from hems.devices.models import KindRecord

    KindRecord.objects.create(key="retired_kind", device_type=device.device_type, label="Retired", driver="gone")
    Device.objects.filter(pk=device.pk).update(kind="retired_kind")
    listed = api.data("{ allDevices { __typename id name kind powerW } }", user=user)["allDevices"]
    assert listed == [
        {"__typename": "UnavailableDevice", "id": str(device.pk), "name": "Orphan", "kind": "retired_kind", "powerW": 0}
    ]
