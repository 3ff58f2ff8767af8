"""A mutation that fails writes nothing, even when it fails after writing, and a failing
mutation does not undo a sibling that succeeded in the same request."""

from __future__ import annotations

import pytest
from graphene.utils.str_converters import to_camel_case

from hems.devices.models import Device
from hems.plugins import registry
from hems.testing.api import kind_input
from hems.tests.factories import kind_keys, make_device
from hems.tests.security.snapshot import database

pytestmark = pytest.mark.django_db

CREATE = "mutation($i: CreateDeviceInput!) { createDevice(input: $i) { device { id } } }"


def valid_input(name: str) -> dict:
    key = kind_keys()[0]
    return {"name": name, to_camel_case(key): kind_input(key, dict(registry().kind(key).example))}


def failing_after_the_write(*args, **kwargs):
    raise RuntimeError("the answer could not be built")


@pytest.mark.parametrize("mutation", ["create", "update", "delete"])
def test_a_mutation_failing_after_its_write_leaves_nothing_behind(api, user, monkeypatch, mutation):
    device = make_device(user, kind_keys()[0], name="as it was")
    before = database()
    if mutation == "delete":
        monkeypatch.setattr(Device, "delete", lambda self, *a, **k: (Device.objects.filter(pk=self.pk).delete(), 1 / 0))
        query, variables = "mutation($id: ID!) { deleteDevice(id: $id) { id } }", {"id": str(device.pk)}
    else:
        monkeypatch.setattr(f"hems.api.devices.mutations.{mutation}.for_graphql", failing_after_the_write)
        if mutation == "create":
            query, variables = CREATE, {"i": valid_input("half made")}
        else:
            query = 'mutation($id: ID!) { updateDevice(id: $id, input: {name: "half renamed"}) { device { id } } }'
            variables = {"id": str(device.pk)}
    result = api.execute(query, variables, user=user)
    assert result["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert database() == before


def test_a_failing_sibling_does_not_undo_a_success(api, user):
    query = """
    mutation($ok: CreateDeviceInput!, $bad: CreateDeviceInput!) {
      ok: createDevice(input: $ok) { device { id name } }
      bad: createDevice(input: $bad) { device { id } }
    }"""
    bad = {**valid_input(""), "status": "ONLINE"}  # a blank name is refused by the model
    result = api.execute(query, {"ok": valid_input("kept"), "bad": bad}, user=user)
    assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    created = result["data"]["ok"]["device"]
    assert list(Device.objects.values_list("pk", "name")) == [(int(created["id"]), "kept")]
