"""Prometheus's view: a real ``bin/hems web`` (two gunicorn workers) and ``bin/hems worker``
(two pool processes), a tick through the broker and API requests over HTTP, then both
scraped and parsed with prometheus-client's own parser."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from hems.celery import app
from hems.simulation import tasks
from hems.simulation.models import TickShard
from hems.simulation.tick import minute_of
from hems.tests.factories import kind_keys, make_device
from hems.tests.metrics.samples import parse, value
from hems.tests.test_entrypoint import free_port, wait_until_up
from hems.tests.workers import database_url, new_queue, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[4]
ENTRY = ROOT / "bin" / "hems"
TOKEN = "scrape-token-for-this-test-0123456789abcdef"
PASSWORD = "correct horse staple 42"  # the ``user`` fixture's


def scrape(url: str, token: str | None = TOKEN) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        return parse(response.read().decode())


def graphql(url: str, query: str, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, json.dumps({"query": query}).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as refused:
        return json.loads(refused.read())


def dead_pid() -> int:
    for pid in range(4_000_000, 3_000_000, -1):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            continue
    raise AssertionError("no free pid")


@pytest.fixture
def stack(tmp_path):
    """``bin/hems web`` and ``bin/hems worker`` against the test database, on a queue of
    their own, with their multiprocess directories under tmp_path."""
    metrics_dir = tmp_path / "metrics"
    stale = metrics_dir / f"web.{dead_pid()}"  # a previous run that died without cleaning up
    stale.mkdir(parents=True)
    (stale / "counter_1.db").write_bytes(b"stale")
    unrelated = metrics_dir / "notes"
    unrelated.mkdir()
    queue = new_queue()
    web_port, worker_port = free_port(), free_port()
    env = {
        **os.environ,
        "PYTHON": os.environ.get("PYTHON", str(ROOT / ".venv" / "bin" / "python")),
        "DATABASE_URL": database_url(),
        "HEMS_REDIS_PREFIX": settings.HEMS_REDIS_PREFIX,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "HEMS_METRICS_DIR": str(metrics_dir),
        "HEMS_METRICS_TOKEN": TOKEN,
        "HEMS_METRICS_WORKER_ADDRESS": f"127.0.0.1:{worker_port}",
        "HEMS_BIND": f"127.0.0.1:{web_port}",
        "WEB_CONCURRENCY": "2",
        "WORKER_CONCURRENCY": "2",
        "STATIC_ROOT": str(tmp_path / "static"),
    }
    for name in ("DJANGO_SETTINGS_MODULE", "PROMETHEUS_MULTIPROC_DIR"):
        env.pop(name, None)
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "worker")}
    processes = {}
    for name, log in logs.items():
        with open(log, "w") as out:
            processes[name] = subprocess.Popen(
                [str(ENTRY), name], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        yield {
            "web": f"http://127.0.0.1:{web_port}",
            "worker": f"http://127.0.0.1:{worker_port}/metrics",
            "processes": processes,
            "metrics_dir": metrics_dir,
            "stale": stale,
            "unrelated": unrelated,
            "logs": logs,
        }
    finally:
        app.conf.task_default_queue = previous
        for process in processes.values():
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        for name, log in logs.items():
            print(f"--- {name} ---\n{log.read_text()[-3000:]}")


def worker_up(url: str) -> bool:
    try:
        scrape(url)
        return True
    except OSError:
        return False


def test_the_tick_and_the_api_reach_prometheus_from_every_process(stack, user):
    devices = [make_device(user, key) for key in kind_keys()]
    web, processes = stack["web"], stack["processes"]
    wait_until_up(f"{web}/healthz", processes["web"], timeout=120)
    wait_for(lambda: worker_up(stack["worker"]), timeout=120, what="the worker's exporter")

    # A fresh directory per process group and start, named after it; a dead run's is gone.
    assert (stack["metrics_dir"] / f"web.{processes['web'].pid}").is_dir()
    assert (stack["metrics_dir"] / f"worker.{processes['worker'].pid}").is_dir()
    assert not stack["stale"].exists() and stack["unrelated"].is_dir()

    # The tick, through the broker to the worker's pool, and one shard delivered again.
    minute = minute_of(timezone.now())
    tasks.tick.apply_async(kwargs={"instant": minute.isoformat()})
    wait_for(lambda: TickShard.objects.filter(instant=minute).exists(), what="the tick")
    tasks.tick_shard.apply_async(args=[minute.isoformat(), 0])
    wait_for(
        lambda: value(scrape(stack["worker"]), "hems_tick_shards_total", outcome="duplicate") == 1,
        what="the duplicate shard",
    )

    # The API, over HTTP, across gunicorn's two workers.
    api = f"{web}/graphql/"
    login = graphql(api, f'mutation {{ loginUser(username: "alice", password: "{PASSWORD}") {{ token }} }}')
    token = login["data"]["loginUser"]["token"]
    for _ in range(12):
        assert "errors" not in graphql(api, "{ energyStats { timestamp } }", token)
    refused = graphql(api, 'mutation { createDevice(input: {name: ""}) { device { id } } }', token)
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert graphql(api, "{ allDevices { id } }")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # Worker: the shards, devices, phases and lag of the tick, summed over the pool.
    tick = scrape(stack["worker"])
    assert value(tick, "hems_tick_shards_total", outcome="applied") == 1
    assert value(tick, "hems_tick_shards_total", outcome="duplicate") == 1
    assert value(tick, "hems_tick_devices_total") == len(devices)
    assert value(tick, "hems_tick_homes_total") == 1
    for phase in ("load", "simulate", "write_db", "history", "write_redis", "push"):
        assert value(tick, "hems_tick_phase_seconds_count", phase=phase) == 1, phase
        assert 0 < value(tick, "hems_tick_phase_seconds_sum", phase=phase) < 60, phase
    assert value(tick, "hems_tick_shard_seconds_count") == 1
    lag = value(tick, "hems_tick_lag_seconds_sum")
    assert value(tick, "hems_tick_lag_seconds_count") == 1 and 0 <= lag < 120
    assert value(tick, "hems_tick_lag_seconds_bucket", le="+Inf") == 1
    assert value(tick, "hems_tick_last_instant_timestamp_seconds") == minute.timestamp()

    # Web: latency by root field and errors by code, summed over gunicorn's workers.
    served = scrape(f"{web}/metrics")
    stats = {"operation_type": "query", "operation": "energyStats"}
    assert value(served, "hems_api_request_seconds_count", **stats) == 12
    assert 0 < value(served, "hems_api_request_seconds_sum", **stats) < 12 * 5
    assert value(served, "hems_api_request_seconds_bucket", le="+Inf", **stats) == 12
    assert value(served, "hems_api_request_seconds_count", operation_type="mutation", operation="loginUser") == 1
    assert value(served, "hems_api_errors_total", operation_type="mutation", operation="createDevice",
                 code="BAD_USER_INPUT") == 1  # fmt: skip
    assert value(served, "hems_api_errors_total", operation_type="query", operation="allDevices",
                 code="UNAUTHENTICATED") == 1  # fmt: skip
    assert not [k for k in served if k[0] == "hems_api_errors_total" and dict(k[1])["operation"] == "energyStats"]
    pids = {path.stem.rsplit("_", 1)[1] for path in (stack["metrics_dir"] / f"web.{processes['web'].pid}").glob("*.db")}
    assert len(pids) >= 2  # each gunicorn worker writes its own files
    # Each loaded the schema and froze it before serving (hems.web_server).
    assert stack["logs"]["web"].read_text().count("Worker warmed: ") >= 2

    # A gunicorn worker killed and replaced: what it counted stays in the sum.
    children = subprocess.run(["pgrep", "-P", str(processes["web"].pid)], capture_output=True, text=True).stdout
    os.kill(int(children.split()[0]), signal.SIGKILL)
    wait_until_up(f"{web}/healthz", processes["web"], timeout=60)
    assert value(scrape(f"{web}/metrics"), "hems_api_request_seconds_count", **stats) == 12

    # Without the token, nothing; the token is the setting given to both processes.
    for url in (f"{web}/metrics", stack["worker"]):
        with pytest.raises(urllib.error.HTTPError) as refused_scrape:
            scrape(url, token=None)
        assert refused_scrape.value.code == 401
