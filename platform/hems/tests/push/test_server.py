"""Push through the real server process (`bin/hems web`, `bin/hems all`) with a real
WebSocket client: a tick run elsewhere reaches the subscriber."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from hems.tests.test_entrypoint import ENTRY, environment, free_port, post, wait_until_up  # noqa: F401

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[4]
STATS = "subscription { energyStats { currentProduction netGridFlow timestamp } }"
INSTANT = "2026-06-21T12:00:00+00:00"


async def subscribe(port: int, token: str):
    ws = await connect(f"ws://127.0.0.1:{port}/graphql/", subprotocols=["graphql-transport-ws"], open_timeout=10)
    await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 10)) == {"type": "connection_ack"}
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": STATS}}))
    return ws


async def next_stats(ws, timeout: float) -> dict:
    message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    assert message["type"] == "next" and message["id"] == "1", message
    return message["payload"]["data"]["energyStats"]


def login(port: int, username: str, password: str) -> str:
    mutation = f'mutation {{ loginUser(username: "{username}", password: "{password}") {{ token }} }}'
    return post(f"http://127.0.0.1:{port}/graphql/", mutation)["data"]["loginUser"]["token"]


def test_a_tick_run_by_another_process_reaches_a_websocket_subscriber_of_bin_hems_web(environment):  # noqa: F811
    migrate = subprocess.run([str(ENTRY), "migrate"], env=environment, capture_output=True, text=True, timeout=180)
    assert migrate.returncode == 0, migrate.stderr
    port = free_port()
    web = subprocess.Popen(
        [str(ENTRY), "web"], env={**environment, "HEMS_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", web)
        token = login(port, "entrydemo", "entry-demo-password-1")

        async def scenario():
            ws = await subscribe(port, token)
            before = await next_stats(ws, 10)
            simulate = await asyncio.create_subprocess_exec(
                sys.executable, "manage.py", "simulate", "--at", INSTANT, cwd=ROOT, env=environment
            )
            assert await simulate.wait() == 0
            after = await next_stats(ws, 20)
            await ws.close()
            return before, after

        before, after = asyncio.run(scenario())
        assert before["netGridFlow"] == 0  # nothing ticked yet
        assert after["timestamp"] == INSTANT and after["currentProduction"] > 0
    finally:
        web.terminate()
        web.wait(timeout=20)


def test_the_embedded_mode_pushes_its_in_process_ticks(tmp_path):
    """`bin/hems all` with nothing configured: one web process ticks and pushes on its
    in-memory channel layer; the tick after the subscription (at the next minute) arrives."""
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
    }
    log = tmp_path / "all.log"
    with open(log, "w") as out:
        stack = subprocess.Popen([str(ENTRY), "all"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", stack, timeout=120)
        deadline = time.monotonic() + 60
        while "INFO hems.simulation: tick" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        token = login(port, "demo", "demo-password-1")

        async def scenario():
            ws = await subscribe(port, token)
            first = await next_stats(ws, 10)
            following = await next_stats(ws, 75)  # the ticker's next minute
            await ws.close()
            return first, following

        first, following = asyncio.run(scenario())
        assert following["timestamp"] > first["timestamp"], (first, following)
        text = log.read_text()
        assert text.count("INFO hems.simulation: tick") >= 2 and "ticker: the tick runs" in text, text[-3000:]
    finally:
        stack.terminate()
        stack.wait(timeout=30)
