"""Commands in a vendor's format on the topic its devices listen on (a codec's
``command_topics``, Tasmota's ``cmnd/POWER``): hems publishes there besides its own JSON
on ``command``; the broker's ACL lets the device's own login read it, and no other
device's. Against a real Mosquitto started for the test. Kind-agnostic: every installed
kind whose codecs name a command topic."""

from __future__ import annotations

import shutil

import pytest
from django.conf import settings
from django.db import transaction

from hems.live import broker, commands, credentials, subscriber, topics
from hems.plugins import registry
from hems.sdk.types import Status
from hems.tests.factories import make_device
from hems.tests.live.mqtt import login

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto is not installed"),
]


def vendor_commands():
    """(kind key, codec, field, topic) of every installed codec's command topics."""
    found = [
        (key, codec, name, topic)
        for key, kind in sorted(registry().kinds.items())
        for codec in kind.codecs
        for name, topic in codec.command_topics.items()
    ]
    return found or [pytest.param(None, None, None, None, marks=pytest.mark.skip(reason="no codec names one"))]


def live(user):
    def make(key):
        device = make_device(user, key, source="live")
        with transaction.atomic():
            issued = credentials.rotate(device)
        return device, issued

    return make


@pytest.mark.parametrize(("key", "codec", "field", "channel"), vendor_commands())
def test_a_status_change_reaches_the_device_on_its_vendors_command_topic(
    user, other_user, mosquitto, django_capture_on_commit_callbacks, key, codec, field, channel
):
    assert field == "status", "the test switches devices on and off"
    with django_capture_on_commit_callbacks(execute=True):  # the broker reloads its files
        device, mine = live(user)(key)
        other, theirs = live(other_user)(key)
    plug = login(mosquitto, mine.username, mine.password)
    foreign = login(mosquitto, theirs.username, theirs.password)
    assert plug.ok and foreign.ok
    vendor_topic = topics.topic(mine.username, channel)
    assert not plug.subscribe(vendor_topic).is_failure
    assert not plug.subscribe(mine.command_topic).is_failure
    foreign.subscribe(vendor_topic)  # another device's: the ACL never delivers it
    foreign.subscribe(theirs.command_topic)

    device.status = Status.OFFLINE
    device.save()
    with django_capture_on_commit_callbacks(execute=True):
        commands.send(device, ["status"])
    got = {plug.messages.get(timeout=10), plug.messages.get(timeout=10)}
    kind = registry().kind(key)
    assert got == {
        (vendor_topic, codec.encode_command("status", "offline", kind)),
        (mine.command_topic, b'{"status": "offline"}'),
    }
    assert codec.decode_command(codec.encode_command("status", "offline", kind), kind) == ("status", "offline")
    # A marker on the other device's own command topic arrives; nothing of ours before it.
    commands.publish(other.pk, [("command", b"marker")])
    assert foreign.messages.get(timeout=10) == (theirs.command_topic, b"marker")
    plug.close()
    foreign.close()


def test_the_acl_lets_each_device_read_its_vendors_command_topics_and_hems_write_them():
    channels = {topic for *_, topic in vendor_commands() if topic}
    if not channels:
        pytest.skip("no codec names a command topic")
    acl = broker.acl_text().splitlines()
    for channel in channels:
        assert f"pattern read hems/v1/%u/{channel}" in acl
        assert f"topic write hems/v1/+/{channel}" in acl
        assert f"pattern write hems/v1/%u/{channel}" not in acl  # a device cannot command itself or others


def test_the_acl_lets_each_device_say_its_fields_on_its_vendors_topic_and_the_ingest_read_it():
    channels = {codec.fields_topic for kind in registry().kinds.values() for codec in kind.codecs}
    channels.discard(None)
    if not channels:
        pytest.skip("no codec names a fields topic")
    acl = broker.acl_text().splitlines()
    ingest = acl[acl.index(f"user {settings.HEMS_MQTT_INGEST_USERNAME}") :]
    for channel in channels:
        assert f"pattern write hems/v1/%u/{channel}" in acl
        assert f"topic read hems/v1/+/{channel}" in ingest
        assert f"hems/v1/+/{channel}" in subscriber.report_topics()
