"""The entry script the container runs (bin/hems), run here outside Docker: migrate
with the demo seed, then the web server answering real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from hems.plugins import registry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
ENTRY = ROOT / "bin" / "hems"


STATS = "{ energyStats { currentProduction currentConsumption currentStorageFlow netGridFlow timestamp } }"


def assert_figures_of_a_tick(stats):
    """The figures come from a tick of the last minutes and balance. Consumption may
    be 0 at any instant: the demo's loads cycle on and off, and a load that travels
    may be away."""
    at = datetime.fromisoformat(stats["timestamp"])
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=3), stats
    assert stats["currentConsumption"] >= 0
    balance = stats["currentConsumption"] - stats["currentProduction"] + stats["currentStorageFlow"]
    assert stats["netGridFlow"] == pytest.approx(balance, abs=1e-6)


@pytest.fixture
def environment(tmp_path):
    db = settings.DATABASES["default"]
    name = f"hems_entry_test_{os.getpid()}"
    admin = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{name}",
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEMO_USERNAME": "entrydemo",
        "DEMO_PASSWORD": "entry-demo-password-1",
        "DEBUG": "false",
        "HEMS_REDIS_PREFIX": settings.HEMS_REDIS_PREFIX,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    yield env
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(url: str, query: str, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, json.dumps({"query": query}).encode(), headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the server exited"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the server did not come up")


def test_migrate_seeds_the_demo_once_and_web_serves_the_api(environment):
    first = subprocess.run([str(ENTRY), "migrate"], env=environment, capture_output=True, text=True, timeout=180)
    assert first.returncode == 0, first.stderr
    kinds = sum(1 for kind in registry().kinds.values() if kind.example)  # one demo device each, whatever is installed
    assert f"Created the demo user: username 'entrydemo', password 'entry-demo-password-1' ({kinds} devices)" in (
        first.stdout
    )
    again = subprocess.run([str(ENTRY), "migrate"], env=environment, capture_output=True, text=True, timeout=180)
    assert again.returncode == 0 and "Kept the demo user" in again.stdout

    port = free_port()
    web = subprocess.Popen(
        [str(ENTRY), "web"], env={**environment, "HEMS_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", web)
        api = f"http://127.0.0.1:{port}/graphql/"
        login = post(api, 'mutation { loginUser(username: "entrydemo", password: "entry-demo-password-1") { token } }')
        token = login["data"]["loginUser"]["token"]
        devices = post(api, "{ allDevices { kind } }", token)["data"]["allDevices"]
        assert len(devices) == kinds
        stats = post(api, "{ energyStats { netGridFlow timestamp } }", token)["data"]["energyStats"]
        assert stats["netGridFlow"] == 0  # before the first tick
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/static/admin/css/base.css", timeout=5) as css:
            assert css.status == 200  # the admin's styles, served without a separate web server
    finally:
        web.terminate()
        web.wait(timeout=20)


def test_all_runs_web_worker_and_beat_together_ticks_and_stops_them_together(environment, tmp_path):
    """The README's run command with PostgreSQL and Redis given: the web server, a
    worker and beat; beat's first tick (at the next minute) reaches the worker, and
    the demo user then sees production (one demo producer runs day and night)."""
    port = free_port()
    log = tmp_path / "all.log"
    env = {
        **environment,
        "HEMS_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "WORKER_CONCURRENCY": "1",
        "CELERY_TASK_DEFAULT_QUEUE": f"hems-entry-{os.getpid()}",
        "CELERY_BEAT_STATE": str(tmp_path / "beat"),
    }
    with open(log, "w") as out:
        stack = subprocess.Popen([str(ENTRY), "all"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", stack, timeout=120)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = log.read_text()
            if "ready." in text and "beat: Starting" in text:
                break
            time.sleep(0.2)
        text = log.read_text()
        assert "ready." in text, text[-2000:]  # the worker
        assert "beat: Starting" in text, text[-2000:]
        assert "Created the demo user" in text
        api = f"http://127.0.0.1:{port}/graphql/"
        login = post(api, 'mutation { loginUser(username: "entrydemo", password: "entry-demo-password-1") { token } }')
        token = login["data"]["loginUser"]["token"]
        deadline = time.monotonic() + 100  # beat fires at the next minute boundary
        while time.monotonic() < deadline:
            stats = post(api, STATS, token)["data"]
            if stats["energyStats"]["currentProduction"] > 0:
                break
            assert stack.poll() is None, log.read_text()[-3000:]
            time.sleep(1)
        assert stats["energyStats"]["currentProduction"] > 0, log.read_text()[-3000:]
        assert_figures_of_a_tick(stats["energyStats"])
        assert "hems.simulation.tasks.tick_shard" in log.read_text()  # by the worker, through the broker
    finally:
        stack.terminate()
        stack.wait(timeout=30)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)


def test_with_no_database_nor_redis_all_runs_embedded_and_ticks(tmp_path):
    """The same command with nothing configured: SQLite in HEMS_DATA_DIR, the web
    server and the in-process ticker; a login, the demo's devices and, after the
    ticker's first tick (at once), energyStats with production (the demo has a
    producer of every installed kind, one of which produces day and night)."""
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "HEMS_HTTPS"}
    }
    env |= {
        "PYTHON": sys.executable,
        "HEMS_DATA_DIR": str(tmp_path / "data"),
        "STATIC_ROOT": str(tmp_path / "static"),
        "HEMS_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
    }
    log = tmp_path / "all.log"
    with open(log, "w") as out:
        stack = subprocess.Popen([str(ENTRY), "all"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", stack, timeout=120)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            assert json.loads(response.read()) == {"database": "ok", "redis": "not configured"}
        deadline = time.monotonic() + 60
        while "INFO hems.simulation: tick" not in log.read_text() and time.monotonic() < deadline:
            assert stack.poll() is None, log.read_text()[-3000:]
            time.sleep(0.2)
        text = log.read_text()
        assert "Embedded mode" in text and "INFO hems.simulation: tick" in text, text[-3000:]
        api = f"http://127.0.0.1:{port}/graphql/"
        token = post(api, 'mutation { loginUser(username: "demo", password: "demo-password-1") { token } }')["data"][
            "loginUser"
        ]["token"]
        kinds = sum(1 for kind in registry().kinds.values() if kind.example)
        assert len(post(api, "{ allDevices { id } }", token)["data"]["allDevices"]) == kinds
        stats = post(api, STATS, token)["data"]
        assert stats["energyStats"]["currentProduction"] > 0
        assert_figures_of_a_tick(stats["energyStats"])
        assert (tmp_path / "data" / "hems.sqlite3").exists() and (tmp_path / "data" / "secret_key").exists()
    finally:
        stack.terminate()
        stack.wait(timeout=30)
    assert stack.returncode is not None


def test_worker_and_beat_explain_that_the_embedded_mode_has_no_broker(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    for command in ("worker", "beat"):
        done = subprocess.run([str(ENTRY), command], env=env, capture_output=True, text=True, timeout=30)
        assert done.returncode == 2 and "embedded mode" in done.stderr and "bin/hems ticker" in done.stderr
