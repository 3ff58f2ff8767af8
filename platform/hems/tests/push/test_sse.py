"""GraphQL over SSE at POST /graphql/stream: the same token, rules and figures."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest
from django.test import AsyncClient
from graphql_jwt.shortcuts import get_token

from hems.tests.push.conftest import STATS, run, tick

pytestmark = pytest.mark.django_db(transaction=True)

INSTANT = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)


async def open_stream(query: str, token: str | None):
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return await AsyncClient().post(
        "/graphql/stream", {"query": query}, content_type="application/json", headers=headers
    )


async def next_event(chunks) -> tuple[str, dict | None]:
    """The next event of the stream, keep-alive comments skipped."""
    while True:
        chunk = (await asyncio.wait_for(anext(chunks), 5)).decode()
        if chunk.startswith(":"):
            continue
        name, data = chunk.strip().split("\n")
        return name.removeprefix("event: "), json.loads(data.removeprefix("data: ") or "null")


def test_a_stream_sends_the_stats_at_once_and_after_a_tick(user, home):
    async def scenario():
        response = await open_stream(STATS, get_token(user))
        assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
        chunks = aiter(response.streaming_content)
        first = await next_event(chunks)
        await tick(INSTANT)
        pushed = await next_event(chunks)
        await chunks.aclose()
        return first, pushed

    (first_name, first), (name, pushed) = run(scenario())
    assert first_name == "next" and first["data"]["energyStats"]["netGridFlow"] == 0
    assert name == "next" and pushed["data"]["energyStats"]["timestamp"] == INSTANT.isoformat()


def test_without_a_valid_token_the_answer_is_401():
    for token in (None, "nonsense"):
        response = run(open_stream(STATS, token))
        assert response.status_code == 401 and response["WWW-Authenticate"] == "Bearer"
        assert json.loads(response.content)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_refused_operation_is_a_400_with_the_apis_errors(user):
    for query, code in (
        ("{ energyStats { netGridFlow } }", "BAD_REQUEST"),
        ("subscription { energyStats { " + "netGridFlow " * 300 + "} }", "QUERY_TOO_COMPLEX"),
    ):
        response = run(open_stream(query, get_token(user)))
        assert response.status_code == 400
        assert json.loads(response.content)["errors"][0]["extensions"]["code"] == code
