"""A change of a live device's controllable field goes to the device over MQTT, shows as
pending until the device reports the new value, or failed after the timeout; the value
the user configured stays whatever the device does."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time
from graphene.utils.str_converters import to_camel_case

from hems.live import credentials, ingest
from hems.plugins import registry
from hems.sdk.live import RefusedPayload, codecs_of, controllable, decode
from hems.tests.factories import kind_keys, make_device, storage_kind_keys
from hems.tests.live.mqtt import login, needs_mosquitto

pytestmark = pytest.mark.django_db

DEVICE = """
query D($id: ID!) { device(id: $id) { ... on StorageDevice { mode }
  pendingCommand { field value sentAt state } } }
"""
UPDATE = """
mutation U($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { device { id } } }
"""


@pytest.fixture
def storage(user):
    key = storage_kind_keys()[0]
    device = make_device(user, key, source="live", mode="idle")
    return key, device


def set_mode(api, user, key, device, mode):
    variables = {"id": device.pk, "input": {to_camel_case(key): {"mode": mode}}}
    api.data(UPDATE, variables, user=user)


@needs_mosquitto
def test_a_mode_change_is_sent_pending_then_confirmed_by_the_report(
    api, user, storage, mosquitto, django_capture_on_commit_callbacks
):
    key, device = storage
    with django_capture_on_commit_callbacks(execute=True):
        issued = credentials.rotate(device)
    listener = login(mosquitto, issued.username, issued.password)
    listener.subscribe(issued.command_topic)
    with django_capture_on_commit_callbacks(execute=True):
        set_mode(api, user, key, device, "CHARGING")
    topic, payload = listener.messages.get(timeout=10)
    assert (topic, json.loads(payload)) == (issued.command_topic, {"mode": "charging"})
    listener.close()
    shown = api.data(DEVICE, {"id": device.pk}, user=user)["device"]
    assert shown["mode"] == "CHARGING"
    assert (shown["pendingCommand"]["field"], shown["pendingCommand"]["state"]) == ("mode", "PENDING")
    assert json.loads(shown["pendingCommand"]["value"]) == "charging"
    # The device reports the new mode: nothing pending any more.
    now = timezone.now()
    outcome = ingest.apply_reports(
        [device.pk], [now.timestamp()], [0.0], [0.0], [float("nan")], fields=[{"mode": "charging"}], now=now
    )
    assert outcome.accepted == 1
    assert api.data(DEVICE, {"id": device.pk}, user=user)["device"]["pendingCommand"] is None


def test_an_unconfirmed_command_fails_after_the_timeout_and_the_configured_value_stays(api, user, storage, settings):
    settings.HEMS_LIVE_COMMAND_TIMEOUT_SECONDS = 120
    key, device = storage
    start = timezone.now()
    with freeze_time(start):
        set_mode(api, user, key, device, "DISCHARGING")
    with freeze_time(start + timedelta(seconds=60)):
        assert api.data(DEVICE, {"id": device.pk}, user=user)["device"]["pendingCommand"]["state"] == "PENDING"
    with freeze_time(start + timedelta(seconds=121)):
        shown = api.data(DEVICE, {"id": device.pk}, user=user)["device"]
    assert shown["pendingCommand"]["state"] == "FAILED" and shown["mode"] == "DISCHARGING"


def test_a_simulated_device_gets_no_command(api, user):
    key = storage_kind_keys()[0]
    device = make_device(user, key, mode="idle")
    set_mode(api, user, key, device, "CHARGING")
    assert api.data(DEVICE, {"id": device.pk}, user=user)["device"]["pendingCommand"] is None
    assert not device.commands.exists()


@pytest.mark.parametrize("key", kind_keys())
def test_every_kind_decodes_the_default_payload_and_round_trips_its_commands(key):
    kind = registry().kind(key)
    storage = kind.device_type == "storage"
    body = {"time": "2026-12-01T10:02:00+01:00", "powerW": 120.5}
    body |= {"flowW": -120.5, "levelWh": 10} if storage else {}
    report = decode(json.dumps(body).encode(), kind)
    assert report.power_w == 120.5 and report.time.utcoffset() == timedelta(hours=1)
    for name in controllable(kind):
        command = codecs_of(kind)[-1].encode_command(name, "online", kind)
        echoed = json.loads(command) | body
        assert decode(json.dumps(echoed).encode(), kind).fields == {name: "online"}


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"powerW": 1}', b'{"time": "2026-12-01T10:02:00", "powerW": 1}',
     b'{"time": "2026-12-01T10:02:00Z", "powerW": "1"}', b'{"time": "2026-12-01T10:02:00Z", "powerW": -1}',
     b'{"time": "2026-12-01T10:02:00Z", "powerW": true}'],
)  # fmt: skip
def test_malformed_payloads_are_refused_with_a_reason(payload):
    with pytest.raises(RefusedPayload, match="hems-json: .+"):
        decode(payload, registry().kind(kind_keys()[0]))


def test_a_storage_payload_needs_its_flow():
    with pytest.raises(RefusedPayload, match="flowW is missing"):
        decode(b'{"time": "2026-12-01T10:02:00Z", "powerW": 1}', registry().kind(storage_kind_keys()[0]))
