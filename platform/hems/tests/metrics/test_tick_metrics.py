"""The tick's figures, recorded where the tick runs (the worker, the embedded ticker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from hems.simulation.tick import run_shard
from hems.tests.metrics.samples import local

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)


def test_an_applied_shard_counts_its_devices_phases_and_lag(home):
    applied, devices, homes, rows = (
        local("hems_tick_shards_total", outcome="applied"),
        local("hems_tick_devices_total"),
        local("hems_tick_homes_total"),
        local("hems_tick_state_rows_written_total"),
    )
    phases = {p: local("hems_tick_phase_seconds_count", phase=p) for p in ("load", "simulate", "write_db", "push")}
    lag_count, lag_sum = local("hems_tick_lag_seconds_count"), local("hems_tick_lag_seconds_sum")
    shard_count = local("hems_tick_shard_seconds_count")
    latest = local("hems_tick_last_instant_timestamp_seconds")

    with freeze_time(NOON + timedelta(seconds=12)):  # the worker got to it 12 s after the minute
        report = run_shard(NOON, 0)

    assert report.applied and report.devices == len(home)
    assert local("hems_tick_shards_total", outcome="applied") == applied + 1
    assert local("hems_tick_devices_total") == devices + len(home)
    assert local("hems_tick_homes_total") == homes + 1
    assert report.written == len(home)  # every device's first simulation
    assert local("hems_tick_state_rows_written_total") == rows + len(home)
    for phase, before in phases.items():
        assert local("hems_tick_phase_seconds_count", phase=phase) == before + 1, phase
    assert local("hems_tick_phase_seconds_count", phase="total") == 0  # the whole shard is its own histogram
    assert local("hems_tick_shard_seconds_count") == shard_count + 1
    assert local("hems_tick_lag_seconds_count") == lag_count + 1
    assert local("hems_tick_lag_seconds_sum") == pytest.approx(lag_sum + 12)
    assert local("hems_tick_lag_seconds_bucket", le="15.0") - local("hems_tick_lag_seconds_bucket", le="10.0") >= 1
    assert local("hems_tick_last_instant_timestamp_seconds") == max(latest, NOON.timestamp())


def test_a_redelivered_shard_counts_as_a_duplicate_and_nothing_else(home):
    with freeze_time(NOON + timedelta(seconds=3)):
        run_shard(NOON, 0)
    applied, duplicate = (
        local("hems_tick_shards_total", outcome="applied"),
        local("hems_tick_shards_total", outcome="duplicate"),
    )
    devices, lags = local("hems_tick_devices_total"), local("hems_tick_lag_seconds_count")

    with freeze_time(NOON + timedelta(seconds=40)):
        report = run_shard(NOON, 0)

    assert not report.applied
    assert local("hems_tick_shards_total", outcome="duplicate") == duplicate + 1
    assert local("hems_tick_shards_total", outcome="applied") == applied
    assert local("hems_tick_devices_total") == devices
    assert local("hems_tick_lag_seconds_count") == lags  # nothing was committed


def test_a_late_shard_of_an_older_minute_does_not_move_the_latest_back(home):
    future = NOON + timedelta(days=400)
    with freeze_time(future):
        run_shard(future, 0)
    with freeze_time(future + timedelta(minutes=2)):
        run_shard(future - timedelta(minutes=5), 0)  # a retry of an older minute, committed later
    assert local("hems_tick_last_instant_timestamp_seconds") == future.timestamp()


def test_a_tick_committed_just_before_its_rounded_minute_has_no_negative_lag(home):
    lag_sum, lag_count = local("hems_tick_lag_seconds_sum"), local("hems_tick_lag_seconds_count")
    later = NOON + timedelta(hours=1)
    with freeze_time(later - timedelta(seconds=20)):  # minute_of() rounds to the nearest minute
        run_shard(later, 0)
    assert local("hems_tick_lag_seconds_count") == lag_count + 1
    assert local("hems_tick_lag_seconds_sum") == pytest.approx(lag_sum)
