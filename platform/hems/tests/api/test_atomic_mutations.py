"""A mutation either writes and answers, or answers an error and writes nothing: an
error anywhere in the payload the client selected undoes the mutation's write."""

from __future__ import annotations

import pytest
from graphene.utils.str_converters import to_camel_case
from graphql import GraphQLError

from hems.api.schema import schema
from hems.devices.models import Device, Home
from hems.plugins import registry
from hems.testing.api import kind_input
from hems.tests.factories import kind_keys, make_device
from hems.tests.security.snapshot import database

pytestmark = pytest.mark.django_db

# A payload that can only fail once the write is done: history with its end before its start.
BAD_HISTORY = 'energyHistory(start: "2026-06-02T00:00:00Z", end: "2026-06-01T00:00:00Z", interval: DAY) { start }'
CREATE = "mutation($i: CreateDeviceInput!) { createDevice(input: $i) { device { id PAYLOAD } } }"
UPDATE = 'mutation($id: ID!) { updateDevice(id: $id, input: {name: "renamed"}) { device { id name PAYLOAD } } }'
DELETE = "mutation($id: ID!) { deleteDevice(id: $id) { id } }"
UPDATE_HOME = 'mutation { updateHome(input: {timeZone: "Asia/Tokyo", latitude: 35.7}) { home { latitude timeZone } } }'


def create_input(kind_key: str) -> dict:
    example = dict(registry().kind(kind_key).example)
    return {
        "name": "made twice?",
        to_camel_case(kind_key): kind_input(kind_key, example),
    }


def refused(result: dict, field: str) -> dict:
    assert result["data"] == {field: None}, result
    return result["errors"][0]


@pytest.mark.parametrize("kind_key", kind_keys())
def test_create_refused_by_its_payload_stores_nothing(api, user, kind_key):
    before = database()
    result = api.execute(CREATE.replace("PAYLOAD", BAD_HISTORY), {"i": create_input(kind_key)}, user=user)
    error = refused(result, "createDevice")
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "end"
    assert database() == before
    # The same request with a payload that resolves is stored once.
    created = api.data(CREATE.replace("PAYLOAD", ""), {"i": create_input(kind_key)}, user=user)["createDevice"][
        "device"
    ]
    assert list(Device.objects.values_list("pk", flat=True)) == [int(created["id"])]


def test_update_refused_by_its_payload_changes_nothing(api, user):
    device = make_device(user, kind_keys()[0], name="as it was")
    before = database()
    error = refused(
        api.execute(UPDATE.replace("PAYLOAD", BAD_HISTORY), {"id": str(device.pk)}, user=user), "updateDevice"
    )
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert database() == before
    assert Device.objects.get(pk=device.pk).name == "as it was"


def failing(*args, **kwargs):
    raise GraphQLError("refused while answering", extensions={"code": "BAD_USER_INPUT"})


def test_delete_refused_by_its_payload_deletes_nothing(api, user, monkeypatch):
    # deleteDevice's payload has nothing a client can make fail: make its one field fail.
    payload = schema.graphql_schema.get_type("DeleteDevicePayload")
    monkeypatch.setattr(payload.fields["id"], "resolve", failing)
    device = make_device(user, kind_keys()[0])
    before = database()
    error = api.execute(DELETE, {"id": str(device.pk)}, user=user)["errors"][0]
    assert error["message"] == "refused while answering"
    assert database() == before


def test_update_home_refused_by_its_payload_changes_nothing(api, user, monkeypatch):
    home_type = schema.graphql_schema.get_type("Home")
    monkeypatch.setattr(home_type.fields["timeZone"], "resolve", failing)
    before = database()
    error = refused(api.execute(UPDATE_HOME, user=user), "updateHome")
    assert error["message"] == "refused while answering"
    assert database() == before
    assert Home.of(user).time_zone != "Asia/Tokyo"


def test_a_mutation_whose_payload_fails_leaves_its_siblings_alone(api, user):
    key = kind_keys()[0]
    query = """
    mutation($i: CreateDeviceInput!, $j: CreateDeviceInput!) {
      kept: createDevice(input: $i) { device { id } }
      undone: createDevice(input: $j) { device { id PAYLOAD } }
      home: updateHome(input: {latitude: 10}) { home { latitude } }
    }""".replace("PAYLOAD", BAD_HISTORY)
    result = api.execute(query, {"i": create_input(key), "j": create_input(key)}, user=user)
    assert result["data"]["undone"] is None and result["data"]["home"] == {"home": {"latitude": 10.0}}
    assert [error["path"] for error in result["errors"]] == [["undone", "device", "energyHistory"]]
    assert list(Device.objects.values_list("pk", flat=True)) == [int(result["data"]["kept"]["device"]["id"])]
    assert Home.of(user).latitude == 10.0
