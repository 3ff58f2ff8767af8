"""The ingest pipeline's steps, each alone, and together over a batch of MQTT messages
(without a broker: the messages are built as paho hands them over), against the real
PostgreSQL. Every bad message stops at the first step that refuses it, counted under
its reason, and changes nothing."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from hems.devices.models import DeviceState
from hems.live import credentials, steps
from hems.live.directory import Directory
from hems.live.ingest import FUTURE, REPLAY, UNKNOWN
from hems.live.pipeline import Message, Metrics, Pipeline
from hems.plugins import registry
from hems.sdk import Codec
from hems.tests.factories import make_device
from hems.tests.live.test_ingest import kind_of

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 22, 10, 20, tzinfo=UTC)


def live_device(owner, kind_key=None, **changes):
    device = make_device(owner, kind_key or kind_of("production"), source="live", **changes)
    with transaction.atomic():
        login = credentials.rotate(device)
    return device, login


def report(login, seconds=0.0, power_w=100.0, **extra) -> Message:
    body = {"time": (NOW + timedelta(seconds=seconds)).isoformat(), "powerW": power_w, **extra}
    return Message(login.state_topic, json.dumps(body).encode())


def state(device) -> DeviceState:
    return DeviceState.objects.get(pk=device.pk)


@pytest.fixture
def pipeline():
    return Pipeline(directory=Directory(), limit=steps.RateLimit(burst=5, per_minute=6), metrics=Metrics())


@pytest.fixture(autouse=True)
def frozen():
    with freeze_time(NOW + timedelta(minutes=5)):
        yield


def test_a_report_on_the_state_topic_is_written(pipeline, user):
    device, login = live_device(user)
    pipeline.process([report(login, 0, 1234.5)])
    assert pipeline.metrics.snapshot() | {"seconds": {}} == {"accepted": 1, "refused": {}, "batches": 1, "seconds": {}}
    s = state(device)
    assert (s.power_w, s.reported_at) == (1234.5, NOW)


def malformed(login):
    return [
        (Message(login.state_topic, b"{not json"), steps.UNDECODABLE),
        (Message(login.state_topic, b"[1, 2]"), steps.UNDECODABLE),
        (report(login, power_w="1200"), steps.UNDECODABLE),  # wrong type
        (Message(login.state_topic, json.dumps({"powerW": 5}).encode()), steps.UNDECODABLE),  # no time
        (report(login, power_w=5e12), steps.OUT_OF_BOUNDS),  # beyond anything the kind can reach
        (report(login, seconds=3600), FUTURE),
        (Message("hems/v1/dnobody/state", report(login).payload), UNKNOWN),
        (Message(f"elsewhere/{login.username}/state", report(login).payload), steps.NOT_A_DEVICE_TOPIC),
        (Message(login.state_topic.replace("/state", "/other"), report(login).payload), steps.NOT_A_DEVICE_TOPIC),
    ]


@pytest.mark.parametrize("case", range(9))
def test_a_bad_message_is_refused_with_its_reason_and_changes_nothing(pipeline, user, case):
    device, login = live_device(user)
    message, reason = malformed(login)[case]
    before = DeviceState.objects.filter(pk=device.pk).values().get()
    pipeline.process([message])
    assert pipeline.metrics.refused == {reason: 1} and pipeline.metrics.accepted == 0
    assert DeviceState.objects.filter(pk=device.pk).values().get() == before


def test_a_replay_of_an_old_timestamp_is_refused(pipeline, user):
    device, login = live_device(user)
    pipeline.process([report(login, 60, 500)])
    pipeline.process([report(login, 60, 900), report(login, 30, 900)])
    assert pipeline.metrics.refused == {REPLAY: 2}
    assert state(device).power_w == 500


def test_a_deleted_device_is_unknown_and_forgotten(pipeline, user):
    device, login = live_device(user)
    pipeline.process([report(login, 0)])
    device.delete()
    pipeline.process([report(login, 10)])
    pipeline.process([report(login, 20)])
    assert pipeline.metrics.refused == {UNKNOWN: 2}
    assert login.username not in pipeline.directory.known  # looked up again, and found gone


def test_a_flooding_device_is_limited_and_the_others_are_not(pipeline, user):
    flooder, a = live_device(user)
    quiet, b = live_device(user)
    pipeline.process([report(a, i / 10) for i in range(1, 21)] + [report(b, 1)])
    assert pipeline.metrics.refused == {steps.FLOODING: 15} and pipeline.metrics.accepted == 6
    # Its allowance comes back with the reports' own time (12 a minute here: 1 per 10 s).
    pipeline.process([report(a, 40)])
    assert pipeline.metrics.accepted == 7


def test_one_bad_message_does_not_stop_the_batch(pipeline, user):
    device, login = live_device(user)
    pipeline.process([Message(login.state_topic, b"\xff\xfe"), report(login, 0, 42.0)])
    assert state(device).power_w == 42.0 and pipeline.metrics.refused == {steps.UNDECODABLE: 1}


def test_a_batch_costs_the_same_queries_for_one_device_and_forty(user):
    logins = [live_device(user)[1] for _ in range(40)]

    def queries(batch):
        pipeline = Pipeline(directory=Directory())
        with CaptureQueriesContext(connection) as captured:
            pipeline.process([report(login, 1, 10.0) for login in batch])
        assert pipeline.metrics.accepted == len(batch)
        return len(captured)

    one = queries(logins[:1])
    DeviceState.objects.update(reported_at=None)
    assert queries(logins) == one


def test_the_directory_looks_up_a_login_once():
    calls = []

    def source(names):
        calls.append(names)
        return {"da": steps_entry(1)}

    clock = [0.0]
    directory = Directory(negative_seconds=30, clock=lambda: clock[0], source=source)
    directory.resolve(["da", "db"])
    directory.resolve(["da", "db"])  # both cached: "db" as unknown
    assert calls == [["da", "db"]]
    clock[0] = 31.0
    directory.resolve(["da", "db"])  # the unknown one is asked again after a while
    assert calls == [["da", "db"], ["db"]]
    directory.forget([1])
    directory.resolve(["da"])
    assert calls[-1] == ["da"]


def steps_entry(device_id):
    from hems.live.directory import Entry

    return Entry(device_id, "any")


def test_route():
    assert steps.route("hems/v1/dabc/state") == ("dabc", "state")
    assert steps.route("hems/v1/dabc/tele/SENSOR") == ("dabc", "tele/SENSOR")
    for topic in ("hems/v1/dabc", "hems/v1//state", "other/v1/dabc/state", "hems/v1/+/state"):
        with pytest.raises(steps.Refused):
            steps.route(topic)


def test_the_storage_bounds(user):
    kind = registry().kind(kind_of("storage", auto=True))
    ok = steps.validate(_report(power_w=10, flow_w=-10, level_wh=100), kind)
    assert (ok.flow_w, ok.level_wh) == (-10, 100)
    for bad in (_report(power_w=10, flow_w=None), _report(power_w=10, flow_w=1e12), _report(10, 0, -5)):
        with pytest.raises(steps.Refused) as refused:
            steps.validate(bad, kind)
        assert refused.value.reason == steps.OUT_OF_BOUNDS


def _report(power_w, flow_w=0.0, level_wh=None):
    from hems.sdk.live import Report

    return Report(time=NOW, power_w=power_w, flow_w=flow_w, level_wh=level_wh)


def test_no_input_crashes_the_pipeline(pipeline, user):
    """Random bytes, random JSON, random topics: counted, never raised."""
    device, login = live_device(user)
    rng = random.Random(7)
    values = [None, True, -1, 0, 1.5, 1e308, "x", "", [], {}, float("nan")]
    messages = []
    for _ in range(300):
        body = rng.choice(
            [
                bytes(rng.randrange(256) for _ in range(rng.randrange(40))),
                json.dumps({rng.choice(["time", "powerW", "flowW", "x"]): rng.choice(values)}).encode(),
                json.dumps({"time": rng.choice(values), "powerW": rng.choice(values)}).encode(),
            ]
        )
        topic = rng.choice([login.state_topic, "hems/v1/" + "x" * rng.randrange(1, 300) + "/state", "#", ""])
        messages.append(Message(topic, body))
    pipeline.process(messages)
    assert pipeline.metrics.accepted == 0 and sum(pipeline.metrics.refused.values()) == 300


def test_the_directory_loads_every_live_login_at_once(user):
    logins = [live_device(user)[1] for _ in range(3)]
    make_device(user, kind_of("production"))  # simulated: no login
    directory = Directory()
    assert directory.load_all() == 3 and directory.queries == 1
    directory.resolve(login.username for login in logins)
    assert directory.queries == 1  # nothing left to look up


def test_the_counts_reach_prometheus(pipeline, user):
    from hems.tests.metrics.samples import local

    name = "hems_ingest_messages_total"
    accepted = local(name, outcome="accepted", reason="none")
    undecodable = local(name, outcome="dropped", reason="undecodable")
    device, login = live_device(user)
    pipeline.process([report(login, 0), Message(login.state_topic, b"{")])
    assert local(name, outcome="accepted", reason="none") == accepted + 1
    assert local(name, outcome="dropped", reason="undecodable") == undecodable + 1


class SaysItsFields(Codec):
    """A vendor format whose devices say a field's value alone on ``stat/FIELDS``: it
    names whatever the payload names, so the step's own check is what refuses."""

    name = "says"
    topic = "tele/READING"
    fields_topic = "stat/FIELDS"

    def decode_fields(self, payload, kind):
        if payload == b"crash":
            raise ZeroDivisionError
        return json.loads(payload)


def test_a_fields_message_gives_only_the_kinds_controllable_fields_with_plain_values():
    kind = registry().kind(kind_of("production"))
    says = replace(kind, codecs=(SaysItsFields(),))
    assert steps.decode_fields(b'{"status": "offline"}', says, "stat/FIELDS") == {"status": "offline"}
    for payload in (b'{"capacity_wh": 1}', b'{"status": ["offline"]}', b"{}", b"crash"):
        with pytest.raises(steps.Refused) as refused:
            steps.decode_fields(payload, says, "stat/FIELDS")
        assert refused.value.reason == steps.UNDECODABLE
    with pytest.raises(steps.Refused):  # no format of the kind says its fields there
        steps.decode_fields(b'{"status": "offline"}', says, "tele/READING")
