"""Helpers of the push tests: a WebSocket client speaking graphql-transport-ws to the
real ASGI application (Channels' WebsocketCommunicator), the real Redis channel layer
and PostgreSQL (committed data: the consumer reads it from other threads)."""

from __future__ import annotations

import asyncio

import pytest
from channels.layers import channel_layers
from channels.testing import WebsocketCommunicator
from graphql_jwt.shortcuts import get_token

from hems.asgi import application

PROTOCOL = "graphql-transport-ws"
STATS = "subscription { energyStats { currentProduction currentConsumption netGridFlow timestamp } }"
DEVICES = "subscription { devices { id name powerW lastSimulatedAt } }"


@pytest.fixture(autouse=True)
def fresh_layers():
    """Each test runs its own event loop: no channel layer outlives it."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


def run(coroutine):
    return asyncio.run(coroutine)


class Client:
    """One WebSocket connection to /graphql/."""

    def __init__(self, app=application, subprotocols=(PROTOCOL,), headers=()):
        self.ws = WebsocketCommunicator(app, "/graphql/", subprotocols=list(subprotocols), headers=list(headers))

    async def connect(self):
        connected, subprotocol = await self.ws.connect(timeout=5)
        assert connected
        return subprotocol

    async def send(self, message: dict):
        await self.ws.send_json_to(message)

    async def receive(self, timeout: float = 5) -> dict:
        return await self.ws.receive_json_from(timeout=timeout)

    async def closed(self, timeout: float = 5) -> int:
        """The close code the server ends the connection with."""
        output = await self.ws.receive_output(timeout=timeout)
        assert output["type"] == "websocket.close", output
        return output.get("code", 1000)

    async def nothing(self, timeout: float = 0.5) -> bool:
        return await self.ws.receive_nothing(timeout=timeout)

    async def init(self, user=None, token: str | None = None) -> dict:
        await self.connect()
        token = token or get_token(user)
        await self.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        return await self.receive()

    async def subscribe(self, id: str, query: str, variables: dict | None = None):
        await self.send({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}})

    async def close(self):
        await self.ws.disconnect()


@pytest.fixture(autouse=True)
def short_lived_connections():
    """The consumer reads in worker threads: their connections close after each read (as
    the web process's pooled ones do), so none outlives the test's database."""
    from django.db import connections

    previous = connections.settings["default"]["CONN_MAX_AGE"]
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    yield
    connections.settings["default"]["CONN_MAX_AGE"] = previous


async def tick(instant):
    """The tick in another thread, as a worker runs it (publishing after its commit)."""
    from django.db import connection

    from hems.simulation.tick import run_tick

    def tick_and_close():
        try:
            return run_tick(instant)
        finally:
            connection.close()

    return await asyncio.to_thread(tick_and_close)


async def in_thread(function, *args):
    """``function`` in another thread (as another process would write), its connection closed after."""
    from django.db import connection

    def call():
        try:
            return function(*args)
        finally:
            connection.close()

    return await asyncio.to_thread(call)
