"""A task published by a Django process that is not the worker (the admin's "Run selected
tasks" of django-celery-beat, ``manage.py shell``) goes through hems's Celery app: to
its Redis broker and queue in a deployment, run in place in the embedded mode. Each case
runs ``manage.py`` in a fresh process, where only what Django itself imports is loaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis
from django.conf import settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]

PUBLISH = """
from django.contrib.admin import site
from django_celery_beat.admin import PeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from hems.simulation.tasks import maintain_history

# The admin action, on an unsaved entry (it reads only these fields): no database needed.
admin = PeriodicTaskAdmin(PeriodicTask, site)
said = []
admin.message_user = lambda request, message, level=None, **kwargs: said.append(str(message))
entry = PeriodicTask(name="tick by hand", task="hems.simulation.tasks.tick", args="[]", kwargs="{}")
admin.run_tasks(None, [entry])
print(said)
maintain_history.delay()
"""

TICK_NOW = """
from hems.simulation.tasks import tick

result = tick.delay()
print(type(result).__name__, result.state, result.result)
"""


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_a_task_sent_from_a_django_process_reaches_hems_queue_on_redis():
    queue = f"hems-test-publish-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "CELERY_TASK_DEFAULT_QUEUE": queue}
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        done = manage("shell", "-c", PUBLISH, env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        assert "not found" not in done.stdout, done.stdout
        sent = [json.loads(raw)["headers"]["task"] for raw in client.lrange(queue, 0, -1)]
    finally:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    # lpush: the newest first.
    assert sent == ["hems.simulation.tasks.maintain_history", "hems.simulation.tasks.tick"]


def test_in_the_embedded_mode_a_task_runs_in_place(tmp_path):
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env |= {"HEMS_DATA_DIR": str(tmp_path), "CELERY_TASK_ALWAYS_EAGER": ""}
    migrated = manage("migrate", "--no-input", "-v0", env=env)
    assert migrated.returncode == 0, migrated.stderr[-3000:]
    done = manage("shell", "-c", TICK_NOW, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-3:] == ["EagerResult", "SUCCESS", "1"], done.stdout  # one shard, ticked
