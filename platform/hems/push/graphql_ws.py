"""GraphQL over WebSocket: the graphql-transport-ws protocol, at /graphql/.

The protocol (github.com/enisdenjo/graphql-ws, PROTOCOL.md) in short: the client sends
``connection_init`` (payload ``{"Authorization": "Bearer <token>"}``), the server answers
``connection_ack``; then ``subscribe`` {id, payload: {query, variables, operationName}}
gets ``next`` messages and, on a refused operation, one ``error``; either side ends a
subscription with ``complete``; ``ping``/``pong`` at any time. Close codes: 4400 bad
message, 4401 unauthorized (no init before subscribe, bad token, token expired), 4406
subprotocol not offered, 4408 no init in time, 4409 duplicate subscription id, 4429
second init, 1013 client too slow (dropped rather than buffered).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from hems.api.errors import INTERNAL
from hems.push import presence
from hems.push.auth import PushContext, Unauthorized, authenticate
from hems.push.operation import prepare, refusal, results
from hems.push.publish import group_name

logger = logging.getLogger("hems.push")

PROTOCOL = "graphql-transport-ws"


class GraphQLWSConsumer(AsyncWebsocketConsumer):
    async def __call__(self, scope, receive, send):
        # Dropping a client whose socket no longer drains: its close frame may never be
        # written either, so the consumer is ended as if the client had gone.
        self.stopped = asyncio.Event()

        async def receive_or_stop():
            receiving = asyncio.ensure_future(receive())
            stopping = asyncio.ensure_future(self.stopped.wait())
            done, _ = await asyncio.wait({receiving, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if receiving in done:
                stopping.cancel()
                return receiving.result()
            receiving.cancel()
            return {"type": "websocket.disconnect", "code": 1013}

        await super().__call__(scope, receive_or_stop, send)

    async def connect(self):
        self.context: PushContext | None = None
        self.subscriptions: dict[str, asyncio.Task] = {}
        self.tasks: set[asyncio.Task] = set()
        self.init_received = False
        self.ending = False
        self.outbox: asyncio.Queue = asyncio.Queue(maxsize=settings.HEMS_PUSH_MAX_QUEUE)
        if PROTOCOL not in self.scope.get("subprotocols", []):
            await self.accept()
            await self.close(4406, "Subprotocol not acceptable: use graphql-transport-ws.")
            return
        await self.accept(PROTOCOL)
        self.spawn(self.write())
        self.spawn(self.expect_init())

    def spawn(self, coroutine) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def disconnect(self, code):
        for task in [*self.subscriptions.values(), *self.tasks]:
            task.cancel()
        if self.context is not None and self.channel_layer is not None:
            await self.channel_layer.group_discard(group_name(self.context.user.pk), self.channel_name)

    # Writing: one bounded queue, one writer. ------------------------------------------

    def enqueue(self, message: dict) -> None:
        try:
            self.outbox.put_nowait(message)
        except asyncio.QueueFull:
            self.spawn(self.drop(f"more than {settings.HEMS_PUSH_MAX_QUEUE} messages waiting"))

    async def write(self):
        while True:
            message = await self.outbox.get()
            try:
                await asyncio.wait_for(self.send(text_data=json.dumps(message)), settings.HEMS_PUSH_SEND_TIMEOUT)
            except TimeoutError:
                await self.drop(f"a message not written in {settings.HEMS_PUSH_SEND_TIMEOUT:g} s")
                return

    async def drop(self, why: str):
        if self.ending:
            return
        logger.warning("push: dropped a client that fell behind (%s)", why)
        await self.end(1013, "Client too slow: messages were not read.")

    async def end(self, code: int, reason: str):
        """Close with ``code``; a socket that cannot take even the close frame is ended."""
        if self.ending:
            return
        self.ending = True
        try:
            await asyncio.wait_for(self.close(code, reason), 1.0)
        except TimeoutError:
            pass
        self.stopped.set()

    # Reading. --------------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None):
        try:
            message = json.loads(text_data) if text_data is not None else None
        except ValueError:
            message = None
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "connection_init":
            await self.on_init(message.get("payload"))
        elif kind == "ping":
            self.enqueue({"type": "pong"})
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            await self.on_subscribe(message.get("id"), message.get("payload"))
        elif kind == "complete":
            task = self.subscriptions.pop(message.get("id"), None)
            if task is not None:
                task.cancel()
        else:
            await self.end(4400, "Invalid message: expected JSON with a known 'type'.")

    async def owner_changed(self, message):
        if self.context is not None:
            self.context.changes.notify()

    async def expect_init(self):
        await asyncio.sleep(settings.HEMS_PUSH_INIT_TIMEOUT)
        if self.context is None:
            await self.end(4408, "Connection initialisation timeout.")

    async def on_init(self, payload):
        if self.init_received:
            await self.end(4429, "Too many initialisation requests.")
            return
        self.init_received = True
        header = payload.get("Authorization") if isinstance(payload, dict) else None
        try:
            context = await authenticate(header)
        except Unauthorized as exc:
            await self.end(4401, f"Unauthorized: {exc}"[:120])  # a close reason holds 123 bytes
            return
        owner = context.user.pk
        # Marked and joined before the first read: no change after it can be missed.
        await asyncio.to_thread(presence.mark, owner)
        await self.channel_layer.group_add(group_name(owner), self.channel_name)
        self.context = context
        self.spawn(self.keep_present(owner))
        self.spawn(self.expire(context.expires_at.timestamp()))
        self.enqueue({"type": "connection_ack"})

    async def keep_present(self, owner: int):
        while True:
            await asyncio.sleep(presence.REFRESH_SECONDS)
            await asyncio.to_thread(presence.mark, owner)

    async def expire(self, expires_at: float):
        # A stream never outlives its token: the client reconnects with a fresh one.
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.end(4401, "Unauthorized: the token expired; reconnect with a fresh one.")

    async def on_subscribe(self, id, payload):
        if self.context is None:
            await self.end(4401, "Unauthorized: send connection_init with the token first.")
            return
        if not isinstance(id, str) or not id:
            await self.end(4400, "Invalid message: 'id' must be a non-empty string.")
            return
        if id in self.subscriptions:
            await self.end(4409, f"Subscriber for {id[:60]} already exists.")
            return
        if len(self.subscriptions) >= settings.HEMS_PUSH_MAX_SUBSCRIPTIONS:
            message = f"At most {settings.HEMS_PUSH_MAX_SUBSCRIPTIONS} subscriptions per connection."
            self.enqueue({"id": id, "type": "error", "payload": refusal(message)})
            return
        operation = prepare(payload)
        if isinstance(operation, list):
            self.enqueue({"id": id, "type": "error", "payload": operation})
            return
        self.subscriptions[id] = self.spawn(self.run(id, operation))

    async def run(self, id: str, operation):
        try:
            async for payload in results(operation, self.context):
                self.enqueue({"id": id, "type": "next", "payload": payload})
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("push: subscription %s failed", id)
            self.enqueue({"id": id, "type": "error", "payload": refusal("Internal server error.", INTERNAL)})
            self.subscriptions.pop(id, None)
            return
        if self.subscriptions.pop(id, None) is not None:
            self.enqueue({"id": id, "type": "complete"})
