"""A real worker SIGKILLed in the middle of a shard, and a backlog of stale tick
messages left by a stopped worker: the real broker (Redis), the real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from freezegun import freeze_time

from hems.celery import app
from hems.devices.models import DeviceState
from hems.simulation import tasks
from hems.simulation.models import HomeEnergy, TickShard
from hems.simulation.tick import run_shard, run_tick
from hems.tests.factories import kind_keys, make_device
from hems.tests.workers import database_url, kill_worker, new_queue, start_worker, stop_worker, wait_for

User = get_user_model()
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)
# Seconds before an unacknowledged message goes back to the queue (300 in production).
VISIBILITY = "3"
HISTORY = ("period_start", "period_end", "production_wh", "consumption_wh", "storage_charge_wh",
           "storage_discharge_wh", "grid_import_wh", "grid_export_wh")  # fmt: skip


@pytest.fixture
def queue(tmp_path):
    name = new_queue()
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = name
    workers = []

    def start():
        workers.append(start_worker(name, tmp_path / "worker.log", CELERY_VISIBILITY_TIMEOUT=VISIBILITY))
        return workers[-1]

    yield start
    app.conf.task_default_queue = previous
    for process in workers:
        stop_worker(process)
    print((tmp_path / "worker.log").read_text()[-4000:])


@pytest.fixture
def homes(django_user_model):
    for n in range(3):
        owner = django_user_model.objects.create_user(username=f"home{n}", password="a long passphrase 42")
        for key in kind_keys():
            make_device(owner, key)


def states() -> dict[int, tuple]:
    return {s.pk: (s.level_wh, s.power_w, s.flow_w, s.simulated_at) for s in DeviceState.objects.all()}


def ours():
    """This test's homes' history rows (the partitioned history may outlive a test's flush)."""
    return HomeEnergy.objects.filter(owner_id__in=User.objects.values("pk"))


def history_at(instant) -> list[tuple]:
    return sorted(ours().filter(period_end=instant).values_list("owner_id", *HISTORY))


def blocked_on_a_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            "AND query ILIKE %s",
            ["%hems_device_state%"],
        )
        return cursor.fetchone()[0] > 0


def test_a_worker_killed_mid_shard_leaves_the_tick_applied_exactly_once(queue, homes):
    run_tick(T0)
    # What one application of the tick at T1 gives, computed here and rolled back.
    with transaction.atomic():
        assert run_shard(T1, 0).applied
        expected, expected_history = states(), history_at(T1)
        transaction.set_rollback(True)
    assert not TickShard.objects.filter(instant=T1).exists()

    # Hold every state row: the worker claims the shard, loads and simulates, then
    # waits on the lock in its UPDATE, inside its transaction. Kill it right there.
    with psycopg.connect(database_url()) as lock:
        lock.execute("SELECT 1 FROM hems_device_state FOR UPDATE").fetchall()
        first = queue()
        tasks.tick.apply_async(kwargs={"instant": T1.isoformat()})
        wait_for(blocked_on_a_lock, what="the shard's write")
        kill_worker(first)
        lock.rollback()

    assert not TickShard.objects.filter(instant=T1).exists()  # the claim died with the worker
    queue()  # a new worker takes the message back once its visibility timeout is over
    wait_for(lambda: TickShard.objects.filter(instant=T1).exists(), what="the redelivered shard")

    assert states() == expected  # the same arithmetic on the same rows: energy neither lost nor applied twice
    assert history_at(T1) == expected_history
    assert len(history_at(T1)) == 3  # one row per home: no duplicate...
    assert ours().count() == 6  # ...and nothing but T0's and T1's rows
    assert {row[1] for row in history_at(T1)} == {T0}  # no gap: T1's row starts where T0's ended
    assert TickShard.objects.filter(instant=T1).count() == 1


def test_tick_messages_queued_while_no_worker_ran_are_dropped_not_run_in_a_burst(queue, homes, tmp_path):
    # The worker was stopped for an hour while ticks kept being queued, one a minute.
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    run_tick(start)  # the last tick before the outage
    for minute in range(60):
        with freeze_time(start + timedelta(minutes=minute, seconds=1)):
            tasks.tick.apply_async()  # the instant and the expiry are stamped at sending
    worker = queue()
    now = datetime.now(UTC)
    tasks.tick.apply_async(kwargs={"instant": now.isoformat()})
    wait_for(lambda: TickShard.objects.filter(instant__gt=start).exists(), what="the fresh tick")
    stop_worker(worker)  # it has handled the whole queue, in order, by then
    applied = list(TickShard.objects.filter(instant__gt=start).values_list("instant", flat=True))
    assert len(applied) == 1 and applied[0] > start + timedelta(minutes=59)
    assert (tmp_path / "worker.log").read_text().count(f"Discarding revoked task: {tasks.TICK}") == 60  # expired
    # The one tick that ran covers the whole gap, one history row per home.
    assert {row[1] for row in history_at(applied[0])} == {start}
    assert ours().count() == 6
