"""A client that falls behind is dropped, never buffered without bound; a subscriber
gets the latest state, not each intermediate one."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest

from hems.asgi import application
from hems.push.auth import PushContext
from hems.push.operation import prepare, results
from hems.tests.push.conftest import STATS, Client, run, tick

pytestmark = pytest.mark.django_db(transaction=True)

INSTANT = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)


class StalledClient:
    """The server's side of a client that stopped reading its socket: once stalled, each
    write waits for ever, as uvicorn's does while the socket's buffer is full."""

    def __init__(self, app):
        self.app = app
        self.stalled = False

    async def __call__(self, scope, receive, send):
        async def stalling_send(message):
            if self.stalled and message["type"] in {"websocket.send", "websocket.close"}:
                await asyncio.Event().wait()
            await send(message)

        await self.app(scope, receive, stalling_send)


def dropped_when_stalled(user, messages: int) -> bool:
    """Stall the client after the first result, send ``messages`` pings; did the server
    end the connection (within 5 s) rather than hold it with its messages?"""

    async def scenario():
        app = StalledClient(application)
        client = Client(app=app)
        await client.init(user)
        await client.subscribe("s", STATS)
        assert (await client.receive())["type"] == "next"
        app.stalled = True
        for _ in range(messages):
            await client.send({"type": "ping"})  # each answered by a pong no one reads
        try:
            await asyncio.wait_for(asyncio.shield(client.ws.future), 5)
        except TimeoutError:
            await client.close()
            return False
        return True

    return run(scenario())


def test_a_client_whose_messages_pile_up_is_dropped(user, settings, caplog):
    settings.HEMS_PUSH_MAX_QUEUE = 4
    settings.HEMS_PUSH_SEND_TIMEOUT = 60  # the queue's bound acts first
    with caplog.at_level(logging.WARNING, logger="hems.push"):
        assert dropped_when_stalled(user, messages=10)
    assert "more than 4 messages waiting" in caplog.text


def test_a_client_that_does_not_read_one_message_in_time_is_dropped(user, settings, caplog):
    settings.HEMS_PUSH_SEND_TIMEOUT = 0.3
    with caplog.at_level(logging.WARNING, logger="hems.push"):
        assert dropped_when_stalled(user, messages=1)
    assert "not written in 0.3 s" in caplog.text


def test_a_client_that_reads_is_kept(user, settings):
    settings.HEMS_PUSH_MAX_QUEUE = 4

    async def scenario():
        client = Client()
        await client.init(user)
        for _ in range(20):  # five times the queue, read as it comes
            await client.send({"type": "ping"})
            assert await client.receive() == {"type": "pong"}
        await client.close()

    run(scenario())


def test_changes_during_a_read_are_coalesced_into_the_latest_state(user, home):
    """Three ticks land while the subscriber is busy: it then reads once, the last one's
    figures, and has nothing more to send."""

    async def scenario():
        context = PushContext(user=user, expires_at=datetime.now(UTC) + timedelta(minutes=5))
        stream = results(prepare({"query": STATS}), context)
        first = await anext(stream)
        for minute in range(3):
            await tick(INSTANT + timedelta(minutes=minute))
            context.changes.notify()  # as the channel layer's message would
        latest = await anext(stream)
        try:
            more = await asyncio.wait_for(anext(stream), 0.5)
        except TimeoutError:
            more = None
        await stream.aclose()
        return first, latest, more

    first, latest, more = run(scenario())
    assert first["data"]["energyStats"]["timestamp"] != latest["data"]["energyStats"]["timestamp"]
    assert latest["data"]["energyStats"]["timestamp"] == (INSTANT + timedelta(minutes=2)).isoformat()
    assert more is None
