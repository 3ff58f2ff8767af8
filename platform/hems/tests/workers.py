"""Real Celery worker processes for tests: on a queue of the test's own, against the
test database and the test run's Redis key prefix."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]


def database_url() -> str:
    db = settings.DATABASES["default"]
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"


def new_queue() -> str:
    return f"hems-test-{uuid.uuid4().hex[:8]}"


def start_worker(queue: str, log_path: Path, **extra_env: str) -> subprocess.Popen:
    """``celery worker`` with one pool process, in a session of its own (so a test can
    kill the main process and its pool child together)."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "HEMS_REDIS_PREFIX": settings.HEMS_REDIS_PREFIX,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        **extra_env,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with open(log_path, "a") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "hems", "worker", "-Q", queue, "--concurrency", "1",
             "--without-heartbeat", "--without-mingle", "--without-gossip", "--loglevel", "INFO"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            kill_worker(process)


def kill_worker(process: subprocess.Popen) -> None:
    """SIGKILL the worker and its pool process at once: nothing gets to clean up."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=20)


def wait_for(condition, timeout: float = 90.0, what: str = "the worker") -> None:
    """Poll (the machine is shared: timeouts are generous, the wait is not fixed)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not get there in {timeout:.0f} s")
