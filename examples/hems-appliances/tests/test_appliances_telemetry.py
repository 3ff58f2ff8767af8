"""An appliance on a Tasmota smart plug: its ``tele/<topic>/SENSOR`` message, shaped
exactly as Tasmota documents it, decodes to the appliance's power; the ingest takes it
from the plug's own topic (``FullTopic hems/v1/%topic%/%prefix%/``).

Payloads: https://tasmota.github.io/docs/devices/Sonoff-Pow-R2/ (tele/pow1/SENSOR),
https://tasmota.github.io/docs/Commands/#setoption52 (the time's UTC offset),
https://tasmota.github.io/docs/Rules/ (multi-channel ENERGY values are arrays),
https://tasmota.github.io/docs/Commands/#power (ON / OFF).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

pytest.importorskip("hems_appliances", reason="hems-appliances is not installed")

from freezegun import freeze_time  # noqa: E402
from hems_appliances.telemetry import TASMOTA  # noqa: E402

from hems.sdk import RefusedPayload  # noqa: E402
from hems.testing import ingest, kind  # noqa: E402

# Sonoff Pow R2's documented message, as is (local time, no offset: SetOption52 0).
DOCUMENTED = (
    b'{"Time":"2018-02-15T17:37:10","ENERGY":{"TotalStartTime":"2018-11-14T18:39:40","Total":6.294,'
    b'"Yesterday":5.340,"Today":0.954,"Period":217,"Power":2635,"ApparentPower":2650,"ReactivePower":282,'
    b'"Factor":0.99,"Voltage":227,"Current":11.661}}'
)
# The same with SetOption52 1: the time carries its offset.
WITH_OFFSET = DOCUMENTED.replace(b'"Time":"2018-02-15T17:37:10"', b'"Time":"2018-02-15T17:37:10+01:00"')
# A two-channel plug (Sonoff Dual R3): one value per channel.
TWO_CHANNELS = (
    b'{"Time":"2026-09-18T11:19:21+02:00","ENERGY":{"TotalStartTime":"2026-09-16T00:00:00","Total":[2.813,0.254],'
    b'"Yesterday":[1.530,0.125],"Today":[0.772,0.059],"Power":[52,5],"ApparentPower":[66,10],'
    b'"ReactivePower":[40,9],"Factor":[0.79,0.50],"Voltage":235,"Current":[0.278,0.044]}}'
)


@pytest.fixture
def washer():
    return kind("washing_machine")


def test_the_documented_message_decodes_to_its_power_at_its_instant(washer):
    report = washer.codecs[0].decode(WITH_OFFSET, washer)
    assert report.power_w == 2635.0
    assert report.time == datetime(2018, 2, 15, 16, 37, 10, tzinfo=UTC)
    assert report.time.utcoffset() == timedelta(hours=1)


def test_a_multi_channel_plug_reports_the_sum(washer):
    report = TASMOTA.decode(TWO_CHANNELS, washer)
    assert report.power_w == 57.0 and report.time.tzinfo == timezone(timedelta(hours=2))


def test_a_time_without_offset_is_refused_with_the_setting_to_change(washer):
    with pytest.raises(RefusedPayload, match="SetOption52"):
        TASMOTA.decode(DOCUMENTED, washer)


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"ON", "not JSON"),
        (b'{"Time":"2018-02-15T17:37:10+01:00","DS18B20":{"Temperature":20.6}}', "no ENERGY"),
        (WITH_OFFSET.replace(b'"Power":2635', b'"Power":"2635"'), "finite number"),
        (WITH_OFFSET.replace(b'"Power":2635', b'"Power":-5'), "negative"),
        (WITH_OFFSET.replace(b'"Power":2635,', b""), "Power is missing"),
        (WITH_OFFSET.replace(b"2018-02-15T17:37:10+01:00", b"yesterday"), "ISO 8601"),
    ],
)
def test_malformed_messages_are_refused_with_a_reason(washer, payload, reason):
    with pytest.raises(RefusedPayload, match=reason):
        TASMOTA.decode(payload, washer)


def test_on_off_commands_are_tasmotas_power_payloads(washer):
    assert TASMOTA.encode_command("status", "offline", washer) == b"OFF"
    assert TASMOTA.decode_command(b"ON", washer) == ("status", "online")
    with pytest.raises(RefusedPayload):
        TASMOTA.encode_command("wash_program", "eco", washer)


@pytest.mark.django_db
def test_the_ingest_takes_the_plugs_message_from_its_own_topic(user):
    washer = kind("washing_machine")
    # Rated for the documented message's 2,635 W (the ingest holds a device to its own rating).
    attributes = {**washer.example, "heater_power_w": 2_600.0}
    device = washer.model.objects.create(owner=user, name="Washer", source="live", **attributes)
    payload = json.loads(WITH_OFFSET)
    payload["Time"] = "2026-06-22T12:20:00+02:00"
    with freeze_time(datetime(2026, 6, 22, 10, 21, tzinfo=UTC)):
        assert ingest(device, json.dumps(payload).encode(), topic=TASMOTA.topic) == ""
        # hems's own JSON on the state topic still works for the same kind.
        assert ingest(device, b'{"time": "2026-06-22T10:20:30Z", "powerW": 1900}') == ""
        # The documented message as is (no offset) is refused, and changes nothing.
        assert ingest(device, DOCUMENTED, topic=TASMOTA.topic) == "undecodable"
        # Beyond the plug's appliance's own rating: refused, whatever the kind's widest bound.
        payload["Time"], payload["ENERGY"]["Power"] = "2026-06-22T12:20:40+02:00", 2_700
        assert ingest(device, json.dumps(payload).encode(), topic=TASMOTA.topic) == "above the device's rating"
    device.state.refresh_from_db()
    assert device.state.power_w == 1900 and device.state.reported_at == datetime(2026, 6, 22, 10, 20, 30, tzinfo=UTC)
    assert device.state.pending_energy_wh == pytest.approx(2635 * 30 / 3600)


def test_commands_go_where_a_stock_tasmota_listens(washer):
    """With ``FullTopic hems/v1/%topic%/%prefix%/`` a plug takes ``POWER`` on
    ``hems/v1/<login>/cmnd/POWER`` (https://tasmota.github.io/docs/MQTT/#command-flow)."""
    assert TASMOTA.command_topics == {"status": "cmnd/POWER"}
    assert TASMOTA.encode_command("status", "online", washer) == b"ON"


@pytest.mark.django_db
def test_the_plugs_last_will_makes_it_unavailable_and_online_brings_it_back(user):
    """Tasmota's LWT: ``tele/<topic>/LWT``, retained, ``Online`` / ``Offline``
    (https://tasmota.github.io/docs/MQTT/#lwt)."""
    washer = kind("washing_machine")
    device = washer.model.objects.create(owner=user, name="Washer", source="live", **washer.example)
    assert TASMOTA.availability_topic == "tele/LWT"
    with freeze_time(datetime(2026, 6, 22, 10, 21, tzinfo=UTC)):
        assert ingest(device, b'{"time": "2026-06-22T10:20:30Z", "powerW": 1900}') == ""
        assert ingest(device, b"Offline", topic=TASMOTA.availability_topic) == ""
        device.state.refresh_from_db()
        assert (device.state.available, device.state.power_w) == (False, 0.0)
        assert ingest(device, b"Online", topic=TASMOTA.availability_topic) == ""
        assert ingest(device, b"Sleeping", topic=TASMOTA.availability_topic) == "undecodable"
    device.state.refresh_from_db()
    assert device.state.available is True


SWITCH = """
mutation S($id: ID!) { updateDevice(id: $id, input: {status: OFFLINE}) { device { id } } }
"""
PENDING = "query P($id: ID!) { device(id: $id) { pendingCommand { field value state } } }"


@pytest.mark.django_db
def test_the_plugs_power_state_confirms_the_switch_it_was_sent(api, user):
    """After a switch the plug publishes ``stat/<topic>/POWER``, ``ON`` / ``OFF``
    (https://tasmota.github.io/docs/MQTT/#command-flow): the relay's state, which its
    SENSOR message lacks. It confirms the command; anything else changes nothing."""
    washer = kind("washing_machine")
    device = washer.model.objects.create(owner=user, name="Washer", source="live", **washer.example)
    assert TASMOTA.fields_topic == "stat/POWER"
    assert TASMOTA.decode_fields(b"off", washer) == {"status": "offline"}
    api.data(SWITCH, {"id": device.pk}, user=user)  # the command is recorded (sent once committed)

    def pending():
        return api.data(PENDING, {"id": device.pk}, user=user)["device"]["pendingCommand"]

    assert pending() == {"field": "status", "value": '"offline"', "state": "PENDING"}  # JSON
    assert ingest(device, b"Sleeping", topic=TASMOTA.fields_topic) == "undecodable"
    assert ingest(device, b"ON", topic=TASMOTA.fields_topic) == ""  # not what was asked
    assert pending()["state"] == "PENDING"
    assert ingest(device, b"OFF", topic=TASMOTA.fields_topic) == ""
    assert pending() is None  # confirmed
    device.state.refresh_from_db()
    assert device.state.reported_at is None  # a state message is not a reading
