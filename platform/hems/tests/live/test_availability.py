"""A live device's availability messages (``online`` / ``offline`` on its availability
topic, its MQTT last will): ``offline`` makes it unavailable at once (status OFFLINE
with its reason in the API, nothing counted in energyStats), having counted its last
power up to that moment; ``online`` or its next report brings it back. Through the
pipeline against the real PostgreSQL, then the Last Will path end to end with a real
Mosquitto and the ingest process."""

from __future__ import annotations

import shutil
import signal
import subprocess
from datetime import timedelta

import pytest
from django.utils import timezone
from freezegun import freeze_time

from hems.devices.models import DeviceState
from hems.live import topics
from hems.live.directory import Directory
from hems.live.pipeline import Message, Metrics, Pipeline
from hems.live.steps import UNDECODABLE
from hems.tests.energy_api import STATS
from hems.tests.live.test_pipeline import NOW, live_device, report, state

QUERY = "{ allDevices { status statusReason powerW } }"
REASON = "reported offline on its availability topic"


def availability(login, payload: bytes) -> Message:
    return Message(topics.topic(login.username, topics.AVAILABILITY), payload)


@pytest.fixture
def pipeline():
    return Pipeline(directory=Directory(), metrics=Metrics())


@pytest.mark.django_db
def test_offline_makes_the_device_unavailable_at_once_and_online_brings_it_back(
    api, user, pipeline, settings, django_capture_on_commit_callbacks
):
    settings.HEMS_LIVE_STALE_SECONDS = 300
    device, login = live_device(user)
    with freeze_time(NOW + timedelta(seconds=1)):
        pipeline.process([report(login, 0, 1200.0)])
        assert api.data(QUERY, user=user)["allDevices"][0]["status"] == "ONLINE"
        assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 1200
    with freeze_time(NOW + timedelta(seconds=31)):
        with django_capture_on_commit_callbacks(execute=True):  # the owner's cached stats are stale
            pipeline.process([availability(login, b"offline")])
        assert api.data(QUERY, user=user)["allDevices"] == [{"status": "OFFLINE", "statusReason": REASON, "powerW": 0}]
        assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 0
    with freeze_time(NOW + timedelta(minutes=20)):  # stale by now: the reason it went stays
        assert api.data(QUERY, user=user)["allDevices"][0]["statusReason"] == REASON
    s = state(device)
    # Its last power held until it went offline (31 s after it), then nothing.
    assert (s.available, s.power_w) == (False, 0.0)
    assert s.pending_energy_wh == pytest.approx(1200 * 31 / 3600)
    with freeze_time(NOW + timedelta(seconds=61)):
        pipeline.process([availability(login, b"online")])
        assert api.data(QUERY, user=user)["allDevices"][0]["status"] == "ONLINE"
        pipeline.process([report(login, 60, 500.0)])
    s = state(device)
    assert s.power_w == 500 and s.pending_energy_wh == pytest.approx(1200 * 31 / 3600)  # the gap counts nothing
    assert pipeline.metrics.accepted == 4 and not pipeline.metrics.refused


@pytest.mark.django_db
def test_the_tick_counts_the_power_up_to_offline_and_nothing_after(user, pipeline, settings):
    from hems.simulation.tick import run_tick

    settings.HEMS_LIVE_STALE_SECONDS = 300
    device, login = live_device(user)
    with freeze_time(NOW):
        run_tick(NOW)  # the device's first tick: it counts from here
    with freeze_time(NOW + timedelta(seconds=10)):
        pipeline.process([report(login, 10, 1800.0)])
    with freeze_time(NOW + timedelta(seconds=40)):
        pipeline.process([availability(login, b"offline")])
    with freeze_time(NOW + timedelta(seconds=60)):
        run_tick(NOW + timedelta(seconds=60))
    s = state(device)
    # 30 s at 1800 W between its report and its last will; the 20 s after, nothing.
    assert s.hour_energy_wh == pytest.approx(1800 * 30 / 3600)
    assert s.pending_energy_wh == 0 and s.available is False


@pytest.mark.django_db
def test_within_a_batch_the_last_word_of_each_device_wins(user, pipeline):
    a, login_a = live_device(user)
    b, login_b = live_device(user)
    with freeze_time(NOW + timedelta(seconds=20)):
        pipeline.process(
            [
                report(login_a, 0),
                availability(login_a, b"Offline"),  # Tasmota's capitals
                report(login_b, 0),
                availability(login_b, b"offline"),
                report(login_b, 10),  # a report after it: b is back
                availability(login_a, b"bogus"),
            ]
        )
    assert (state(a).available, state(b).available) == (False, True)
    assert pipeline.metrics.refused == {UNDECODABLE: 1} and pipeline.metrics.accepted == 5


@pytest.mark.django_db
def test_a_simulated_or_unknown_device_is_not_changed(user, pipeline):
    device, login = live_device(user)
    device.source = "simulated"
    device.save()
    pipeline.process([availability(login, b"offline"), Message("hems/v1/dnobody/availability", b"offline")])
    assert state(device).available is True
    assert pipeline.metrics.refused == {"unknown device": 1}


@pytest.mark.django_db
def test_availability_costs_the_same_queries_for_one_device_and_twenty(user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    logins = [live_device(user)[1] for _ in range(20)]

    def queries(batch, word):
        pipeline = Pipeline(directory=Directory(), metrics=Metrics())
        pipeline.directory.load_all()
        with CaptureQueriesContext(connection) as captured:
            pipeline.process([availability(login, word) for login in batch])
        return len(captured)

    assert queries(logins[:1], b"offline") == queries(logins[1:], b"offline")


# The Last Will path, end to end.


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mosquitto_sub") is None, reason="mosquitto is not installed")
def test_a_device_that_drops_its_connection_goes_offline_by_its_last_will(api, user, tmp_path, settings):
    from hems.tests.live.processes import Broker, Ingest
    from hems.tests.live.test_ingest_process import body, publish_until_accepted

    broker = Broker(tmp_path, settings)
    broker.start()
    ingest = None
    try:
        ingest = Ingest(tmp_path, broker.port).start()
        device, login = live_device(user)
        availability_topic = topics.topic(login.username, topics.AVAILABILITY)
        # The device, as a stock client: online (retained), a last will of offline.
        connection = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(broker.port), "-u", login.username, "-P", login.password,
             "-t", login.command_topic, "-q", "1", "--will-topic", availability_topic, "--will-payload", "offline",
             "--will-qos", "1", "--will-retain"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        publish_until_accepted(broker.port, login, body(900))
        ingest.wait(lambda s: s.get("accepted") == 1, "the report")
        subprocess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-u", login.username, "-P", login.password,
             "-t", availability_topic, "-q", "1", "-r", "-m", "online"],
            check=True, timeout=30,
        )  # fmt: skip
        ingest.wait(lambda s: s.get("accepted") == 2, "online")
        assert api.data(QUERY, user=user)["allDevices"][0]["status"] == "ONLINE"

        connection.send_signal(signal.SIGKILL)  # no DISCONNECT: the broker publishes its will
        connection.wait(timeout=10)
        ingest.wait(lambda s: s.get("accepted") == 3, "the last will")
        assert api.data(QUERY, user=user)["allDevices"] == [{"status": "OFFLINE", "statusReason": REASON, "powerW": 0}]
        assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 0
        assert DeviceState.objects.get(pk=device.pk).available is False

        # Back: a report brings it back at once.
        publish_until_accepted(broker.port, login, body(700, timezone.now() + timedelta(seconds=1)))
        ingest.wait(lambda s: s.get("accepted") == 4, "the report after")
        assert api.data(QUERY, user=user)["allDevices"][0] == {"status": "ONLINE", "statusReason": None, "powerW": 700}
    finally:
        if ingest:
            ingest.stop()
        broker.stop()
