"""A live device's reports held to its own rating (``DeviceKind.power_limit_w`` over its
configuration), as the tick holds a simulated device: a 3 kW device reporting 40 kW is
refused and counted, whatever its kind's widest bound allows; a change of its rating
applies to the next batch. Against the real PostgreSQL, through the pipeline."""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from freezegun import freeze_time

from hems.devices.models import DeviceState
from hems.live import ratings
from hems.live.directory import Directory
from hems.live.ingest import ABOVE_RATING
from hems.live.pipeline import Metrics, Pipeline
from hems.plugins import registry
from hems.sdk.types import DeviceType
from hems.tests.live.test_pipeline import NOW, live_device, report, state

pytestmark = pytest.mark.django_db


def rated_kind(device_type=None):
    """A kind whose limit is one of its fields (its rating), and that field."""
    for key, kind in sorted(registry().kinds.items()):
        if isinstance(kind.max_power_w, str) and (device_type is None or kind.device_type == device_type):
            return key, kind.max_power_w, float(kind.example[kind.max_power_w])
    pytest.skip("no installed kind declares its limit as a field")


@pytest.fixture(autouse=True)
def frozen(request):
    ratings.RATINGS.clear()
    if request.node.get_closest_marker("slow"):  # real processes: the real clock
        yield None
        return
    with freeze_time(NOW + timedelta(minutes=5)) as clock:
        yield clock


@pytest.fixture
def pipeline():
    return Pipeline(directory=Directory(), metrics=Metrics())


def test_a_report_above_the_devices_own_rating_is_refused_and_counted(pipeline, user):
    key, rating, rated = rated_kind()
    device, login = live_device(user, key, **{rating: rated})
    pipeline.process([report(login, 0, rated - 1)])
    pipeline.process([report(login, 10, rated * 13), report(login, 20, rated + 0.5)])
    assert pipeline.metrics.refused == {ABOVE_RATING: 2} and pipeline.metrics.accepted == 1
    s = state(device)
    assert (s.power_w, s.reported_at) == (rated - 1, NOW)  # nothing of the refused reports stored


def test_the_limit_follows_a_change_of_the_rating(pipeline, user, frozen):
    key, rating, rated = rated_kind()
    device, login = live_device(user, key, **{rating: rated / 2})
    pipeline.process([report(login, 0, rated * 0.75)])
    assert pipeline.metrics.refused == {ABOVE_RATING: 1}
    setattr(device, rating, rated)
    frozen.tick(1)
    device.save()  # a new updated_at: its configuration is read again
    pipeline.process([report(login, 10, rated * 0.75)])
    assert pipeline.metrics.accepted == 1 and state(device).power_w == rated * 0.75


def test_the_rating_costs_one_query_per_kind_and_none_once_known(user):
    key, rating, rated = rated_kind()
    logins = [live_device(user, key, **{rating: rated - i})[1] for i in range(20)]
    pipeline = Pipeline(directory=Directory(), metrics=Metrics())
    pipeline.directory.load_all()
    before = ratings.RATINGS.queries
    with CaptureQueriesContext(connection) as first:
        pipeline.process([report(login, 1, 100.0) for login in logins])
    assert ratings.RATINGS.queries == before + 1
    with CaptureQueriesContext(connection) as second:
        pipeline.process([report(login, 2, 100.0) for login in logins])
    assert ratings.RATINGS.queries == before + 1 and len(second) == len(first) - 1
    assert pipeline.metrics.accepted == 40


def test_a_storage_flow_above_the_devices_limit_is_refused(pipeline, user):
    key = next((k for k, kind in sorted(registry().kinds.items()) if kind.device_type == DeviceType.STORAGE), None)
    if key is None:
        pytest.skip("no storage kind installed")
    device, login = live_device(user, key, max_charge_w=2000, max_discharge_w=2000, capacity_wh=10_000)
    pipeline.process([report(login, 0, 0.0, flowW=-2500), report(login, 10, 0.0, flowW=1500)])
    assert pipeline.metrics.refused == {ABOVE_RATING: 1} and state(device).flow_w == 1500


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto is not installed")
def test_the_running_ingest_refuses_a_report_above_the_rating_from_a_real_broker(tmp_path, settings, user):
    from hems.tests.live.processes import Broker, Ingest
    from hems.tests.live.test_ingest_process import body, mosquitto_pub, publish_until_accepted

    key, rating, rated = rated_kind()
    device, login = live_device(user, key, **{rating: rated})
    broker = Broker(tmp_path, settings)
    broker.start()
    ingest = None
    try:
        ingest = Ingest(tmp_path, broker.port).start()
        now = timezone.now()
        publish_until_accepted(broker.port, login, body(rated * 13, now - timedelta(seconds=2)))
        ingest.wait(lambda s: s.get("refused", {}).get(ABOVE_RATING) == 1, "the refusal")
        assert mosquitto_pub(broker.port, login, body(rated - 1, now - timedelta(seconds=1))).returncode == 0
        status = ingest.wait(lambda s: s.get("accepted") == 1, "the report within the rating")
        assert status["refused"] == {ABOVE_RATING: 1}
        assert DeviceState.objects.get(pk=device.pk).power_w == rated - 1
    finally:
        if ingest:
            ingest.stop()
        broker.stop()
