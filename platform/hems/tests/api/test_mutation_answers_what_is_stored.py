"""A mutation's answer is what is stored: lowering a storage device's capacity below its
level clips the level in the database, and the answer (and the instance saved) says so."""

from __future__ import annotations

import pytest
from graphene.utils.str_converters import to_camel_case

from hems.devices.models import DeviceState
from hems.plugins import registry
from hems.tests.factories import make_device, storage_kind_keys

pytestmark = pytest.mark.django_db

STORAGE = "capacityWh levelWh percentage"
UPDATE = """
mutation($id: ID!, $input: UpdateDeviceInput!) {
  updateDevice(id: $id, input: $input) { device { id ... on StorageDevice { SELECTION } } }
}""".replace("SELECTION", STORAGE)
ONE = "query($id: ID!) { device(id: $id) { id ... on StorageDevice { SELECTION } } }".replace("SELECTION", STORAGE)


@pytest.mark.parametrize("kind_key", storage_kind_keys())
def test_lowering_the_capacity_below_the_level_answers_the_clipped_level(api, user, kind_key):
    full = registry().kind(kind_key).example["capacity_wh"]
    device = make_device(user, kind_key, level_wh=full)
    half = {to_camel_case(kind_key): {"capacityWh": full / 2}}
    answered = api.data(UPDATE, {"id": device.pk, "input": half}, user=user)["updateDevice"]["device"]
    assert answered == {"id": str(device.pk), "capacityWh": full / 2, "levelWh": full / 2, "percentage": 100.0}
    assert answered == api.data(ONE, {"id": device.pk}, user=user)["device"]
    state = DeviceState.objects.get(pk=device.pk)
    assert (state.capacity_wh, state.level_wh) == (full / 2, full / 2)


@pytest.mark.parametrize("kind_key", storage_kind_keys())
def test_a_saved_storage_device_holds_what_is_stored(user, kind_key):
    full = registry().kind(kind_key).example["capacity_wh"]
    device = registry().kind(kind_key).model.objects.get(pk=make_device(user, kind_key, level_wh=full).pk)
    assert device.state.level_wh == full  # the state is loaded with the device
    device.capacity_wh = full / 2
    device.full_clean()
    device.save()
    assert (device.level_wh, device.percentage) == (full / 2, 100.0)
    assert DeviceState.objects.get(pk=device.pk).level_wh == full / 2
