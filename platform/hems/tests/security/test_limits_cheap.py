"""Oversized, deeply nested and aliased-to-death requests are refused before anything
runs: no resolver, no query beyond the caller's own lookup from the token."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

DEEP = "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }"
ALIASED = "{ " + " ".join(f"a{i}: allDevices {{ id name }}" for i in range(5000)) + " }"
FRAGMENTS = (
    "query { ...A } fragment A on Query { a: me { username } ...B ...B } "
    + " ".join(
        f"fragment {c} on Query {{ {c.lower()}1: me {{ username }} ...{n} ...{n} }}"
        for c, n in zip("BCDEFGHIJ", "CDEFGHIJK", strict=True)
    )
    + " fragment K on Query { k: me { username } }"
)


@pytest.fixture
def explode(monkeypatch):
    """Any resolver that would run fails the test loudly."""

    def boom(*args, **kwargs):
        raise AssertionError("a resolver ran for a refused query")

    # Every resolver of the API asks hems.api.auth for its caller first (looked up at call
    # time, so patching it never leaks into the schema, which is built once per process).
    monkeypatch.setattr("hems.api.auth.current_user", boom)


@pytest.mark.parametrize(
    ("name", "query", "code"),
    [
        ("deep", DEEP, "QUERY_TOO_COMPLEX"),
        ("aliased", ALIASED[:7900] + " }", "QUERY_TOO_COMPLEX"),
        ("fragments", FRAGMENTS, "QUERY_TOO_COMPLEX"),
        ("long", ALIASED, "QUERY_TOO_COMPLEX"),
    ],
)
def test_refused_before_execution_with_at_most_the_callers_lookup(
    api, user, settings, explode, django_assert_max_num_queries, name, query, code
):
    settings.HEMS_GRAPHQL_INTROSPECTION = True  # the deep query needs it; refused for depth all the same
    with django_assert_max_num_queries(1):
        result = api.execute(query, user=user)
    assert result["errors"][0]["extensions"]["code"] == code, result["errors"][0]
    assert result.get("data") is None


def test_a_body_larger_than_django_accepts_is_a_clear_client_error(api, user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    body = json.dumps({"query": "{ me { username } }", "variables": {"pad": "x" * 200_000}})
    response = api.client.post("/graphql/", body, content_type="application/json")
    assert 400 <= response.status_code < 500
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        '{"query": 42}',
        '{"query": ["{ me { username } }"]}',
        '{"query": "{ me { username } }", "variables": [1]}',
        '{"query": "{ me { username } }", "variables": "[1]"}',
        '{"query": "{ me { username } }", "operationName": {"a": 1}}',
        '"just a string"',
        "",
    ],
)
def test_malformed_bodies_are_client_errors(api, body):
    response = api.client.post("/graphql/", body, content_type="application/json")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["errors"][0]["extensions"]["code"] in {"BAD_REQUEST", "GRAPHQL_PARSE_FAILED"}
