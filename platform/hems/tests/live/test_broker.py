"""Device credentials against a real Mosquitto started for the test, with the password
and ACL files hems writes: the right login publishes on its own topics only; a wrong,
foreign or rotated-away login moves nothing."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hems.devices.models import DeviceCredentials
from hems.live import credentials, topics
from hems.tests.factories import kind_keys, make_device
from hems.tests.live.mqtt import Session, login, received

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto is not installed"),
]

ROTATE = """
mutation R($id: ID!) { rotateDeviceCredentials(id: $id) {
  credentials { username password host port stateTopic commandTopic } } }
"""


def rotate(api, user, device, capture):
    with capture(execute=True):
        return api.data(ROTATE, {"id": device.pk}, user=user)["rotateDeviceCredentials"]["credentials"]


def test_rotate_gives_working_credentials_and_only_the_own_topics(
    api, user, other_user, mosquitto, service, django_capture_on_commit_callbacks
):
    mine = make_device(user, kind_keys()[0], source="live")
    theirs = make_device(other_user, kind_keys()[0], source="live")
    a = rotate(api, user, mine, django_capture_on_commit_callbacks)
    b = rotate(api, other_user, theirs, django_capture_on_commit_callbacks)
    assert a["port"] == mosquitto and a["stateTopic"] == f"hems/v1/{a['username']}/state"
    assert DeviceCredentials.objects.get(device=mine).password_hash != a["password"]  # only a hash is kept

    device = login(mosquitto, a["username"], a["password"])
    assert device.ok
    device.publish(a["stateTopic"], b'{"powerW": 1}')
    device.publish(b["stateTopic"], b'{"powerW": 666}')  # another home's device: dropped by the ACL
    device.publish(a["stateTopic"], b"marker")
    assert received(service, a["stateTopic"]) == [(a["stateTopic"], b'{"powerW": 1}')]
    # Nor can it listen to another device's commands: only its own arrive.
    device.subscribe(b["commandTopic"])
    device.subscribe(a["commandTopic"])
    service.publish(b["commandTopic"], b'{"mode": "idle"}')
    service.publish(a["commandTopic"], b"marker")
    assert received(device, a["commandTopic"]) == []
    device.close()


def test_wrong_and_rotated_away_passwords_cannot_connect(
    api, user, mosquitto, service, django_capture_on_commit_callbacks
):
    device = make_device(user, kind_keys()[0], source="live")
    first = rotate(api, user, device, django_capture_on_commit_callbacks)
    assert login(mosquitto, first["username"], first["password"]).ok
    assert not Session(mosquitto, first["username"], "not-the-password").ok
    second = rotate(api, user, device, django_capture_on_commit_callbacks)
    assert second["username"] == first["username"] and second["password"] != first["password"]
    assert login(mosquitto, second["username"], second["password"]).ok  # the broker has reloaded
    assert not Session(mosquitto, first["username"], first["password"]).ok


def test_only_a_live_device_gets_credentials_and_another_users_device_is_not_found(api, user, other_user):
    simulated = make_device(user, kind_keys()[0])
    error = api.error(ROTATE, {"id": simulated.pk}, user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == "source"
    foreign = make_device(other_user, kind_keys()[0], source="live")
    assert api.error(ROTATE, {"id": foreign.pk}, user=user)["extensions"]["code"] == "NOT_FOUND"
    assert not DeviceCredentials.objects.exists()


def test_the_hash_is_mosquittos_own(tmp_path):
    hashed = credentials.mosquitto_hash("s3cret")
    assert credentials.verify("s3cret", hashed) and not credentials.verify("other", hashed)
    # mosquitto_passwd's own output verifies with the same function.
    path = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(path), "u", "s3cret"], check=True)
    assert credentials.verify("s3cret", path.read_text().strip().split(":", 1)[1])


def test_topics_parse_back():
    assert topics.parse("hems/v1/dabc/state") == ("dabc", "state")
    assert topics.parse("hems/v1/dabc/other") is None and topics.parse("other/v1/dabc/state") is None
    assert topics.parse("hems/v1/a/b/state") is None
