"""The ingest as its own process (``manage.py ingest``) against a real Mosquitto and the
real PostgreSQL and Redis: a device's report published with ``mosquitto_pub`` and its
own credentials, as docs/live-devices.md shows, moves its power in energyStats within
seconds; the wrong credentials move nothing; and the faults: the broker restarts, the
ingest is killed, the database goes away."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from hems.devices.models import DeviceState
from hems.live import credentials
from hems.live.ingest import REPLAY
from hems.live.pipeline import DATABASE_DOWN
from hems.tests.energy_api import STATS
from hems.tests.factories import make_device
from hems.tests.live.processes import Broker, Ingest, Relay
from hems.tests.live.test_ingest import kind_of
from hems.tests.workers import wait_for

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto is not installed"),
]


@pytest.fixture
def mqtt_broker(tmp_path, settings):
    b = Broker(tmp_path, settings)
    b.start()
    yield b
    b.stop()


@pytest.fixture
def ingest(tmp_path, mqtt_broker):
    process = Ingest(tmp_path, mqtt_broker.port).start()
    yield process
    process.stop()


def live_device(owner):
    device = make_device(owner, kind_of("production"), source="live")
    with transaction.atomic():
        login = credentials.rotate(device)  # the broker reloads its files at the commit
    return device, login


def mosquitto_pub(port, login, payload, topic=None, password=None) -> subprocess.CompletedProcess:
    """The command docs/live-devices.md gives, with QoS 1."""
    return subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-u", login.username,
         "-P", password or login.password, "-q", "1", "-t", topic or login.state_topic, "-m", payload],
        capture_output=True, timeout=30,
    )  # fmt: skip


def publish_until_accepted(port, login, payload) -> None:
    """The first publish right after a rotation may race the broker's reload (SIGHUP)."""
    for _ in range(50):
        if mosquitto_pub(port, login, payload).returncode == 0:
            return
        time.sleep(0.1)
    raise AssertionError(mosquitto_pub(port, login, payload).stderr.decode())


def body(power_w, at=None) -> str:
    return json.dumps({"time": (at or timezone.now()).isoformat(), "powerW": power_w})


def production(api, user) -> float:
    return api.data(STATS, user=user)["energyStats"]["currentProduction"]


def test_mosquitto_pub_with_the_devices_credentials_moves_its_power_in_energy_stats(
    api, user, other_user, mqtt_broker, ingest
):
    device, login = live_device(user)
    other, other_login = live_device(other_user)
    assert production(api, user) == 0

    # Wrong password: the broker refuses the connection; another device's topic: dropped by the ACL.
    assert mosquitto_pub(mqtt_broker.port, login, body(999), password="not-the-password").returncode != 0
    publish_until_accepted(mqtt_broker.port, other_login, body(1))
    assert mosquitto_pub(mqtt_broker.port, other_login, body(666), topic=login.state_topic).returncode == 0
    started = time.monotonic()
    publish_until_accepted(mqtt_broker.port, login, body(1234.5))
    wait_for(lambda: production(api, user) == 1234.5, timeout=10, what="the report to show in energyStats")
    assert time.monotonic() - started < 10
    assert DeviceState.objects.get(pk=device.pk).power_w == 1234.5  # never 666 nor 999
    assert production(api, other_user) == 1


def test_the_broker_restarts_and_the_ingest_reconnects_and_resubscribes_by_itself(mqtt_broker, ingest, user):
    device, login = live_device(user)
    publish_until_accepted(mqtt_broker.port, login, body(100))
    ingest.wait(lambda s: s.get("accepted") == 1, "the first report")
    mqtt_broker.stop()
    ingest.wait(lambda s: not s.get("connected"), "the ingest to notice")
    mqtt_broker.start()  # a new broker: no session kept (persistence off), subscriptions gone
    ingest.wait(lambda s: s.get("connected"), "the ingest to reconnect", timeout=30)
    publish_until_accepted(mqtt_broker.port, login, body(200))
    ingest.wait(lambda s: s.get("accepted") == 2, "a report after the restart")
    assert DeviceState.objects.get(pk=device.pk).power_w == 200


def test_killed_with_sigkill_the_ingest_restarts_and_what_is_redelivered_is_applied_once(
    tmp_path, mqtt_broker, ingest, user
):
    device, login = live_device(user)
    t0 = timezone.now().replace(microsecond=0) - timedelta(minutes=2)
    publish_until_accepted(mqtt_broker.port, login, body(1000, t0))
    ingest.wait(lambda s: s.get("accepted") == 1, "the first report")
    # Held but not yet acknowledged when the process dies: a batch that waits long.
    ingest.stop()
    slow = Ingest(tmp_path, mqtt_broker.port, HEMS_INGEST_BATCH_SECONDS="30", HEMS_INGEST_BATCH_SIZE="100000")
    slow.start()
    mosquitto_pub(mqtt_broker.port, login, body(2000, t0 + timedelta(seconds=60)))
    slow.wait(lambda s: s.get("received") == 1, "the report to arrive in the batch that waits")
    slow.kill()
    assert DeviceState.objects.get(pk=device.pk).power_w == 1000  # not written before the kill
    # Meanwhile the broker keeps the session's messages; the restarted ingest gets them.
    mosquitto_pub(mqtt_broker.port, login, body(3000, t0 + timedelta(seconds=90)))
    again = Ingest(tmp_path, mqtt_broker.port).start()
    try:
        again.wait(lambda s: s.get("accepted") == 2, "the redelivered reports")
        state = DeviceState.objects.get(pk=device.pk)
        assert state.power_w == 3000
        assert state.pending_energy_wh == pytest.approx(1000 * 60 / 3600 + 2000 * 30 / 3600)
        # The same messages once more (as QoS 1 may deliver them): refused as replays, counted once.
        mosquitto_pub(mqtt_broker.port, login, body(2000, t0 + timedelta(seconds=60)))
        again.wait(lambda s: s.get("refused", {}).get(REPLAY) == 1, "the replay")
        assert DeviceState.objects.get(pk=device.pk).pending_energy_wh == pytest.approx(state.pending_energy_wh)
    finally:
        again.stop()


def test_the_database_unreachable_the_ingest_buffers_drops_beyond_and_recovers(tmp_path, mqtt_broker, user):
    from django.conf import settings

    device, login = live_device(user)
    relay = Relay(int(settings.DATABASES["default"]["PORT"] or 5432))
    process = Ingest(tmp_path, mqtt_broker.port, database=relay.database_url(), HEMS_INGEST_BUFFER="3",
                     HEMS_INGEST_BATCH_SIZE="1", HEMS_INGEST_BURST="100", DATABASE_CONN_MAX_AGE="600")  # fmt: skip
    try:
        process.start()
        t0 = timezone.now().replace(microsecond=0) - timedelta(minutes=5)
        publish_until_accepted(mqtt_broker.port, login, body(10, t0))
        process.wait(lambda s: s.get("accepted") == 1, "the first report")
        relay.cut()
        for i in range(1, 6):
            mosquitto_pub(mqtt_broker.port, login, body(10 + i, t0 + timedelta(seconds=10 * i)))
        # Three held, the two oldest dropped and counted; nothing written meanwhile.
        status = process.wait(lambda s: s.get("refused", {}).get(DATABASE_DOWN) == 2, "the overflow")
        assert status["held"] == 3 and status["accepted"] == 1
        relay.mend()
        process.wait(lambda s: s.get("accepted") == 4 and s.get("held") == 0, "recovery", timeout=60)
        state = DeviceState.objects.get(pk=device.pk)
        assert state.power_w == 15 and state.reported_at == t0 + timedelta(seconds=50)
        assert process.process.poll() is None  # the same process, never restarted
    finally:
        process.stop()
        relay.close()


def test_a_report_from_the_future_is_refused_by_the_running_ingest(mqtt_broker, ingest, user):
    device, login = live_device(user)
    publish_until_accepted(mqtt_broker.port, login, body(5, datetime.now(UTC) + timedelta(hours=1)))
    mosquitto_pub(mqtt_broker.port, login, "{not json")
    status = ingest.wait(lambda s: sum(s.get("refused", {}).values()) == 2, "the refusals")
    assert status["refused"] == {"in the future": 1, "undecodable": 1} and status["accepted"] == 0
    assert DeviceState.objects.get(pk=device.pk).reported_at is None
