"""The real thing: a Celery worker process, the Redis broker, PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hems.celery import app
from hems.devices.models import DeviceState
from hems.simulation import tasks
from hems.simulation.models import HomeEnergy, TickShard
from hems.tests.factories import kind_keys, make_device

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[4]
NOON = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker(tmp_path):
    """A worker on a queue of this test's own, against the test database."""
    queue = f"hems-test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HEMS_REDIS_PREFIX": settings.HEMS_REDIS_PREFIX,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = open(tmp_path / "worker.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "hems", "worker", "-Q", queue, "--concurrency", "1",
         "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    yield process
    app.conf.task_default_queue = previous
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
    log.close()
    print((tmp_path / "worker.log").read_text()[-3000:])


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


def test_a_real_worker_runs_the_tick_once_and_stats_come_from_redis(worker, api, user):
    for key in kind_keys():
        make_device(user, key)
    tasks.tick.apply_async(kwargs={"instant": NOON.isoformat()})
    wait_for(lambda: TickShard.objects.filter(instant=NOON).exists())
    assert all(s.simulated_at == NOON for s in DeviceState.objects.all())
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
    assert all(s.simulated_at == after for s in DeviceState.objects.all())
    assert levels  # the state moved on exactly once per instant

    with CaptureQueriesContext(connection) as queries:
        served = api.data("{ energyStats { netGridFlow timestamp } }", user=user)["energyStats"]
    assert served["timestamp"] == after.isoformat() and len(queries) == 1
