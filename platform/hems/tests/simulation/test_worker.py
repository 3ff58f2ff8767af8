"""The real thing: a Celery worker process, the Redis broker, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hems.celery import app
from hems.devices.models import DeviceState
from hems.simulation import tasks
from hems.simulation.models import HomeEnergy, TickShard
from hems.tests.factories import kind_keys, last_simulated, make_device
from hems.tests.workers import new_queue, start_worker, stop_worker, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

NOON = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def worker(tmp_path):
    """A worker on a queue of this test's own, against the test database."""
    queue = new_queue()
    process = start_worker(queue, tmp_path / "worker.log")
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield process
    app.conf.task_default_queue = previous
    stop_worker(process)
    print((tmp_path / "worker.log").read_text()[-3000:])


def test_a_real_worker_runs_the_tick_once_and_stats_come_from_redis(worker, api, user):
    for key in kind_keys():
        make_device(user, key)
    tasks.tick.apply_async(kwargs={"instant": NOON.isoformat()})
    wait_for(lambda: TickShard.objects.filter(instant=NOON).exists())
    assert all(last_simulated(s) == NOON for s in DeviceState.objects.all())
    levels = {s.pk: s.level_wh for s in DeviceState.objects.all()}

    # Delivered twice: the second is a no-op. The next minute's tick, queued behind
    # it on the same single-process worker, shows when it has been handled.
    tasks.tick.apply_async(kwargs={"instant": NOON.isoformat()})
    tasks.tick_shard.apply_async(args=[NOON.isoformat(), 0])
    after = NOON + timedelta(minutes=1)
    tasks.tick.apply_async(kwargs={"instant": after.isoformat()})
    wait_for(lambda: TickShard.objects.filter(instant=after).exists())
    assert TickShard.objects.filter(instant=NOON).count() == 1
    assert HomeEnergy.objects.filter(owner_id=user.pk).count() == 2
    assert all(last_simulated(s) == after for s in DeviceState.objects.all())
    assert levels  # the state moved on exactly once per instant

    with CaptureQueriesContext(connection) as queries:
        served = api.data("{ energyStats { netGridFlow timestamp } }", user=user)["energyStats"]
    assert served["timestamp"] == after.isoformat() and len(queries) == 1


def worker_backends() -> set[int]:
    """The other sessions on the test database: the worker's connections."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend'"
        )
        return {pid for (pid,) in cursor.fetchall()}


def test_the_worker_reads_every_shard_before_it_forks_its_pool(tmp_path, django_user_model):
    """HEMS_TICK_PRELOAD, wired to Celery's worker_init: the main process reads the
    shards and logs it before the worker is ready."""
    user = django_user_model.objects.create(username="preloaded")
    for key in kind_keys():
        make_device(user, key)
    log = tmp_path / "worker.log"
    process = start_worker(new_queue(), log)
    try:
        wait_for(lambda: " ready." in log.read_text(), timeout=60, what="the worker")
        text = log.read_text()
        read = text.index(f"preload: {len(kind_keys())} devices' configuration read")
        assert read < text.index(" ready.")
    finally:
        stop_worker(process)


def test_a_worker_runs_the_range_its_message_carries_and_keeps_its_connection(tmp_path, django_user_model):
    """The fan-out's host cuts shards of 2,500 homes; the worker's host is set to 100:
    the shard still covers the owners the message names. Between shards the worker
    process keeps its one PostgreSQL connection (CELERY_DB_REUSE_MAX)."""
    queue = new_queue()
    # Sessions that earlier tests of this run left open are not the worker's.
    others = worker_backends()
    process = start_worker(queue, tmp_path / "worker.log", HEMS_TICK_HOMES_PER_SHARD="100")
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        user = django_user_model.objects.create(id=250, username="far-owner")
        for key in kind_keys():
            make_device(user, key)
        # The fan-out runs here (shards of 2,500: one), the shard on the worker.
        assert tasks.tick(instant=NOON.isoformat()) == 1
        wait_for(lambda: TickShard.objects.filter(instant=NOON).exists())
        assert all(last_simulated(s) == NOON for s in DeviceState.objects.all())
        wait_for(lambda: len(worker_backends() - others) == 1, timeout=20, what="the worker's connection")
        (kept,) = worker_backends() - others
        for minutes in (1, 2):
            after = NOON + timedelta(minutes=minutes)
            tasks.tick(instant=after.isoformat())
            wait_for(lambda after=after: TickShard.objects.filter(instant=after).exists())
        assert all(last_simulated(s) == NOON + timedelta(minutes=2) for s in DeviceState.objects.all())
        assert worker_backends() - others == {kept}
    finally:
        app.conf.task_default_queue = previous
        stop_worker(process)
        print((tmp_path / "worker.log").read_text()[-3000:])
