"""GraphQL over Server-Sent Events, for clients without WebSocket: POST /graphql/stream.

The request is the HTTP endpoint's (``Authorization: Bearer <token>``, a JSON body with
``query``, ``variables``, ``operationName``), its operation a subscription. The answer
is ``text/event-stream``: ``event: next`` with ``data: {"data": ...}`` for each result,
and ``event: complete`` when it ends (the token expired: a last ``next`` says so).
Comment lines keep an idle stream open through proxies. A refused request is answered
as JSON: 401 without a valid token, 400 with the errors of a refused operation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time

from django.conf import settings
from django.http import HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from hems.api.errors import BAD_REQUEST, UNAUTHENTICATED
from hems.push import presence
from hems.push.auth import Unauthorized, authenticate
from hems.push.layer import layer
from hems.push.operation import prepare, refusal, results
from hems.push.publish import group_name

logger = logging.getLogger("hems.push")


class TooSlow(Exception):
    pass


def json_error(status: int, errors: list[dict]) -> HttpResponse:
    response = HttpResponse(json.dumps({"errors": errors}), status=status, content_type="application/json")
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response


def event(name: str, payload: dict | None) -> str:
    return f"event: {name}\ndata: {'' if payload is None else json.dumps(payload)}\n\n"


@csrf_exempt  # token-authenticated only, like /graphql/
async def graphql_stream(request):
    if request.method != "POST":
        return json_error(405, refusal("Subscribe with POST (Accept: text/event-stream)."))
    try:
        context = await authenticate(request.headers.get("Authorization"))
    except Unauthorized as exc:
        return json_error(401, refusal(str(exc), UNAUTHENTICATED))
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return json_error(400, refusal("The body must be JSON.", BAD_REQUEST))
    operation = prepare(body)
    if isinstance(operation, list):
        return json_error(400, operation)
    response = StreamingHttpResponse(stream(operation, context), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


async def stream(operation, context):
    owner = context.user.pk
    channels = layer()
    channel = await channels.new_channel()
    await asyncio.to_thread(presence.mark, owner)
    await channels.group_add(group_name(owner), channel)
    outbox: asyncio.Queue = asyncio.Queue(maxsize=settings.HEMS_PUSH_MAX_QUEUE)

    async def listen():
        while True:
            message = await channels.receive(channel)
            if message.get("type") == "owner.changed":
                context.changes.notify()

    async def produce():
        async for payload in results(operation, context):
            try:
                outbox.put_nowait(payload)
            except asyncio.QueueFull:
                raise TooSlow from None

    async def keep_present():
        while True:
            await asyncio.sleep(presence.REFRESH_SECONDS)
            await asyncio.to_thread(presence.mark, owner)

    helpers = [asyncio.ensure_future(listen()), asyncio.ensure_future(keep_present())]
    producer = asyncio.ensure_future(produce())
    expires_at = context.expires_at.timestamp()
    try:
        while not (producer.done() and outbox.empty()):
            left = expires_at - time.time()
            if left <= 0:
                yield event(
                    "next", {"data": None, "errors": refusal("The token expired; subscribe again.", UNAUTHENTICATED)}
                )
                break
            getter = asyncio.ensure_future(outbox.get())
            waiting = {getter} if producer.done() else {getter, producer}
            done, _ = await asyncio.wait(
                waiting, timeout=min(left, settings.HEMS_PUSH_KEEPALIVE_SECONDS), return_when=asyncio.FIRST_COMPLETED
            )
            if getter in done:
                yield event("next", getter.result())
                continue
            getter.cancel()
            if not done:
                yield ": keep-alive\n\n"
        if producer.done() and not producer.cancelled() and isinstance(producer.exception(), TooSlow):
            logger.warning("push: dropped an SSE client that fell behind")
            return
        yield event("complete", None)
    finally:
        for task in [producer, *helpers]:
            task.cancel()
        await channels.group_discard(group_name(owner), channel)
