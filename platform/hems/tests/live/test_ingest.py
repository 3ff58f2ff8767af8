"""Live devices' reports through hems.live.ingest.apply_reports, and the tick's bookkeeping
of them, against the real PostgreSQL (and Redis for energyStats)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from hems.devices.models import DeviceState
from hems.live.ingest import FUTURE, MALFORMED, NOT_LIVE, OUT_OF_BOUNDS, REPLAY, UNKNOWN, apply_reports
from hems.plugins import registry
from hems.simulation.models import HomeEnergy
from hems.simulation.tick import run_tick
from hems.tests.energy_api import STATS
from hems.tests.factories import last_simulated, make_device

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 22, 10, 20, tzinfo=UTC)  # a Monday, 12:20 in Berlin (mid-hour)


def kind_of(device_type, auto=None):
    for key, kind in sorted(registry().kinds.items()):
        modes = getattr(kind.model, "SUPPORTED_MODES", ())
        if kind.device_type == device_type and (auto is None or ("auto" in modes) == auto):
            return key
    raise LookupError(device_type)


def at(moment: datetime, seconds: float = 0.0) -> float:
    return moment.timestamp() + seconds


def report(device, seconds, power_w, flow_w=np.nan, level_wh=np.nan, now=None):
    return apply_reports(
        [device.pk], [at(T0, seconds)], [power_w], [flow_w], [level_wh], now=now or T0 + timedelta(hours=1)
    )


def state(device) -> DeviceState:
    return DeviceState.objects.get(pk=device.pk)


@pytest.fixture
def meter(user):
    """A live production device that has not reported yet."""
    return make_device(user, kind_of("production"), source="live")


@pytest.fixture
def store(user):
    """A live storage device, capacity from its kind's example."""
    return make_device(user, kind_of("storage", auto=True), source="live", level_wh=1000)


def test_a_report_sets_power_time_and_availability(meter):
    outcome = report(meter, 5, 1234.5)
    assert outcome.accepted == 1 and outcome.owners == {meter.owner_id}
    s = state(meter)
    assert (s.power_w, s.reported_at, s.available) == (1234.5, T0 + timedelta(seconds=5), True)
    assert s.pending_energy_wh == 0  # nothing to integrate before a first report


def test_energy_between_reports_is_the_previous_power_over_the_real_gap(meter):
    report(meter, 0, 1000)
    report(meter, 60, 2000)
    report(meter, 150, 0)
    assert state(meter).pending_energy_wh == pytest.approx(1000 * 60 / 3600 + 2000 * 90 / 3600)


def test_several_reports_of_one_device_in_one_batch_integrate_in_time_order(meter):
    ids = [meter.pk] * 3
    outcome = apply_reports(ids, [at(T0, 150), at(T0, 0), at(T0, 60)], [0, 1000, 2000], now=T0 + timedelta(hours=1))
    assert outcome.accepted == 3
    s = state(meter)
    assert s.pending_energy_wh == pytest.approx(1000 * 60 / 3600 + 2000 * 90 / 3600)
    assert (s.power_w, s.reported_at) == (0, T0 + timedelta(seconds=150))


def test_power_stops_counting_at_the_staleness_limit(meter, settings):
    settings.HEMS_LIVE_STALE_SECONDS = 300
    report(meter, 0, 1000)
    report(meter, 1200, 500)  # twenty minutes later: only five count
    assert state(meter).pending_energy_wh == pytest.approx(1000 * 300 / 3600)


def test_storage_reports_integrate_charge_and_discharge(store):
    report(store, 0, 500, flow_w=500, level_wh=1000)
    report(store, 240, 300, flow_w=-300, level_wh=1033)
    report(store, 480, 0, flow_w=0, level_wh=1020)
    s = state(store)
    assert s.pending_charge_wh == pytest.approx(500 * 240 / 3600) and s.pending_discharge_wh == pytest.approx(20)
    assert (s.level_wh, s.flow_w) == (1020, 0)


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"power_w": -1.0}, OUT_OF_BOUNDS),
        ({"power_w": float("nan")}, MALFORMED),
        ({"time": at(T0, 7200)}, FUTURE),
        ({"time": at(T0, 10)}, REPLAY),  # the same instant as the stored report
        ({"time": at(T0, 5)}, REPLAY),  # older
        ({"device_id": 10**12}, UNKNOWN),
    ],
)
def test_a_bad_report_is_refused_with_its_reason_and_changes_nothing(meter, change, reason):
    report(meter, 10, 100)
    before = DeviceState.objects.filter(pk=meter.pk).values().get()
    values = {"device_id": meter.pk, "time": at(T0, 20), "power_w": 200.0} | change
    outcome = apply_reports(
        [values["device_id"]], [values["time"]], [values["power_w"]], now=T0 + timedelta(seconds=30)
    )
    assert outcome.accepted == 0 and outcome.refused.tolist() == [reason]
    assert DeviceState.objects.filter(pk=meter.pk).values().get() == before


@pytest.mark.parametrize(
    "flow_w, level_wh",
    [(float("nan"), 500.0), (100.0, -1.0), (100.0, 10**9)],
    ids=["no flow", "negative level", "level above capacity"],
)
def test_storage_out_of_bounds_is_refused(store, flow_w, level_wh):
    before = DeviceState.objects.filter(pk=store.pk).values().get()
    outcome = report(store, 0, 100, flow_w=flow_w, level_wh=level_wh)
    assert outcome.refused.tolist() == [OUT_OF_BOUNDS]
    assert DeviceState.objects.filter(pk=store.pk).values().get() == before


def test_a_simulated_device_cannot_be_reported_for(user):
    simulated = make_device(user, kind_of("production"))
    before = DeviceState.objects.filter(pk=simulated.pk).values().get()
    assert report(simulated, 0, 100).refused.tolist() == [NOT_LIVE]
    assert DeviceState.objects.filter(pk=simulated.pk).values().get() == before


def test_one_bad_report_does_not_stop_the_others(meter, store):
    outcome = apply_reports(
        [meter.pk, store.pk, 10**12], [at(T0), at(T0), at(T0)], [10.0, 20.0, 30.0], [np.nan, np.nan, np.nan]
    , now=T0)  # fmt: skip
    assert outcome.refused.tolist() == ["", OUT_OF_BOUNDS, UNKNOWN]
    assert state(meter).power_w == 10.0


def test_a_batch_costs_the_same_queries_for_one_device_and_fifty(user):
    devices = [make_device(user, kind_of("production"), source="live") for _ in range(50)]

    def queries(batch):
        with CaptureQueriesContext(connection) as captured:
            times = [at(T0, len(batch))] * len(batch)
            apply_reports([d.pk for d in batch], times, [5.0] * len(batch), now=T0 + timedelta(hours=1))
        return len(captured)

    assert queries(devices[:1]) == queries(devices)


def test_the_tick_counts_reported_energy_once_and_balances(user, meter):
    consumer = make_device(user, kind_of("consumption"))
    run_tick(T0)
    report(meter, 0, 1000)  # from T0
    report(meter, 30, 2000)
    run_tick(T0 + timedelta(minutes=1))
    s = state(meter)
    expected = 1000 * 30 / 3600 + 2000 * 30 / 3600  # reports, then the last one's power to the tick
    assert s.hour_energy_wh == pytest.approx(expected)
    assert s.pending_energy_wh == 0 and s.power_w == 2000  # the tick keeps the reported state
    row = HomeEnergy.objects.get(period_end=T0 + timedelta(minutes=1))
    assert row.production_wh == pytest.approx(expected)
    report(meter, 90, 0)  # the tick counted 2000 W up to T0+60; this report adds 2000 W over 60..90 only
    run_tick(T0 + timedelta(minutes=2))
    assert state(meter).hour_energy_wh == pytest.approx(expected + 2000 * 30 / 3600)
    rows = HomeEnergy.objects.order_by("period_start")
    assert sum(r.production_wh for r in rows) == pytest.approx(expected + 2000 * 30 / 3600)
    for r in rows:
        supplied = r.production_wh + r.storage_discharge_wh + r.grid_import_wh
        assert supplied == pytest.approx(r.consumption_wh + r.storage_charge_wh + r.grid_export_wh)
    assert last_simulated(state(consumer)) == T0 + timedelta(minutes=2)  # simulated ones as ever


def test_a_stale_device_is_offline_with_its_reason_and_back_on_its_next_report(
    api, user, meter, settings, django_capture_on_commit_callbacks
):
    settings.HEMS_LIVE_STALE_SECONDS = 300
    query = "{ allDevices { status statusReason powerW lastReportAt source } }"
    with freeze_time(T0 - timedelta(seconds=30)):
        assert api.data(query, user=user)["allDevices"] == [
            {"status": "OFFLINE", "statusReason": "no report yet", "powerW": 0.0, "lastReportAt": None,
             "source": "LIVE"}
        ]  # fmt: skip
    report(meter, 0, 800)
    with freeze_time(T0 + timedelta(seconds=60)):
        run_tick(T0 + timedelta(seconds=60))
        assert api.data(query, user=user)["allDevices"][0]["status"] == "ONLINE"
        assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 800
    with freeze_time(T0 + timedelta(minutes=10)) as clock:
        run_tick(T0 + timedelta(minutes=10))
        device = api.data(query, user=user)["allDevices"][0]
        assert device["status"] == "OFFLINE" and device["powerW"] == 0
        assert device["statusReason"] == "no report since 2026-06-22T10:20:00Z"
        assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 0
        # It counted until the staleness limit, not to the tick.
        assert state(meter).hour_energy_wh == pytest.approx(800 * 300 / 3600)
        clock.tick(1)
        with django_capture_on_commit_callbacks(execute=True):
            report(meter, 590, 400, now=T0 + timedelta(minutes=10))
        assert api.data(query, user=user)["allDevices"][0]["status"] == "ONLINE"
        assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 400


def test_a_report_shows_in_cached_energy_stats_at_once(api, user, meter, django_capture_on_commit_callbacks):
    with freeze_time(T0) as clock:
        report(meter, 0, 100, now=T0)
        run_tick(T0)  # caches the stats in Redis
        assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 100
        clock.tick(20)
        with django_capture_on_commit_callbacks(execute=True):
            report(meter, 20, 2500, now=T0 + timedelta(seconds=20))
        assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 2500


def test_auto_storage_balances_against_a_live_meter(user, meter):
    storage = make_device(user, kind_of("storage", auto=True), mode="auto", level_wh=1000)
    report(meter, -10, 1500)
    run_tick(T0)
    limit = storage.max_charge_w
    assert state(storage).flow_w == pytest.approx(min(limit, 1500))


def test_switching_source_keeps_history_continuous(user, meter):
    producer = make_device(user, kind_of("production"))
    run_tick(T0)
    simulated_power = state(producer).power_w
    # Simulated until T0; live from then on: its first report at T0+30 s.
    producer.source = "live"
    producer.save()
    assert state(producer).reported_at is None
    report(producer, 30, 1000)
    run_tick(T0 + timedelta(minutes=1))
    assert state(producer).hour_energy_wh == pytest.approx(simulated_power / 60 + 1000 * 30 / 3600)
    # And back: the tick simulates the whole minute since, and drops nothing twice.
    producer.source = "simulated"
    producer.save()
    report_count = state(producer).pending_energy_wh
    run_tick(T0 + timedelta(minutes=2))
    s = state(producer)
    assert report_count == 0
    assert s.hour_energy_wh == pytest.approx(simulated_power / 60 + 1000 * 30 / 3600 + s.power_w / 60)
