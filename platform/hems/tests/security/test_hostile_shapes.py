"""Shapes of request that once took a worker down or answered INTERNAL: fragments spread
5 times at each of 50 levels, JSON nested 5,000 deep, lone UTF-16 surrogates; and what
validation errors say about the schema when introspection is off."""

from __future__ import annotations

import json
import os
import signal
import time
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hems.tests.factories import kind_keys, make_device
from hems.tests.security.snapshot import database

pytestmark = pytest.mark.django_db


class TookTooLong(BaseException):
    """Not an Exception: the view's catch-all must not turn it into an answer."""


@contextmanager
def at_most(seconds: float):
    """Fail a request still running after ``seconds`` instead of waiting for it: without
    linear limits, the 20-level document below would take longer than the universe."""

    def stop(*_args):
        raise TookTooLong

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TookTooLong:
        pytest.fail(f"still running after {seconds} s")
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def fragment_tower(levels: int, bottom: str, width: int = 5) -> str:
    """The issue's document: fragment Fi spreads F(i+1) ``width`` times; the last holds ``bottom``."""
    spreads = [f"fragment F{i} on Query {{ {' '.join(f'...F{i + 1}' for _ in range(width))} }}" for i in range(levels)]
    return "query { ...F0 } " + " ".join([*spreads, f"fragment F{levels} on Query {{ {bottom} }}"])


@pytest.fixture
def explode(monkeypatch):
    """Any resolver that runs fails the test (every resolver asks hems.api.auth first)."""

    def boom(*args, **kwargs):
        raise AssertionError("a resolver ran for a refused request")

    monkeypatch.setattr("hems.api.auth.current_user", boom)


@pytest.mark.parametrize("levels", [12, 20, 50])
@pytest.mark.parametrize(
    ("bottom", "code"),
    [
        ("...F0", "GRAPHQL_VALIDATION_FAILED"),  # the issue's: a cycle, refused by graphql-core's rule
        ("...Missing", "GRAPHQL_VALIDATION_FAILED"),  # an unknown fragment
        ("me { username }", "QUERY_TOO_COMPLEX"),  # 5^levels fields
    ],
    ids=["cycle", "unknown", "fields"],
)
def test_fragments_spread_at_every_level_are_answered_at_once(api, explode, levels, bottom, code):
    query = fragment_tower(levels, bottom)
    started = time.monotonic()
    with at_most(10):
        response = api.post(query)  # no token, as the attacker sent it
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == code
    assert elapsed < 1.0, f"{levels} levels took {elapsed:.2f} s"


def test_a_refused_document_is_not_validated_further(api, user):
    """The limits run first and end the validation: thousands of fields are never
    compared pairwise by graphql-core's OverlappingFieldsCanBeMerged."""
    query = "{ nope " + "a: me { username } " * 400 + "}"
    errors = api.execute(query, user=user)["errors"]
    assert [error["extensions"]["code"] for error in errors] == ["QUERY_TOO_COMPLEX"]


@pytest.mark.parametrize("depth", [5_000, 900, 40])
def test_deeply_nested_json_is_a_client_error(api, depth):
    nested = "[" * depth + "]" * depth
    body = '{"query": "query($v: String) { me { username } }", "variables": {"v": ' + nested + "}}"
    response = api.client.post("/graphql/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert response.json()["errors"][0]["extensions"]["code"] in {"BAD_REQUEST", "BAD_USER_INPUT"}


def test_a_body_nested_5000_deep_anywhere_is_a_bad_request(api):
    for body in ("[" * 5000 + "]" * 5000, '{"query": ' + "[" * 5000 + "]" * 5000 + "}"):
        response = api.client.post("/graphql/", body, content_type="application/json")
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


SURROGATE = "a\ud800b"
LOGIN = "mutation($u: String!, $p: String!) { loginUser(username: $u, password: $p) { token } }"
OPERATIONS = {
    "loginUser-username": (LOGIN, {"u": SURROGATE, "p": "correct horse staple 42"}),
    "loginUser-password": (LOGIN, {"u": "alice", "p": SURROGATE}),
    "refreshToken": ("mutation($t: String) { refreshToken(refreshToken: $t) { token } }", {"t": SURROGATE}),
    "verifyToken": ("mutation($t: String) { verifyToken(token: $t) { payload } }", {"t": SURROGATE}),
    "revokeToken": ("mutation($t: String) { revokeToken(refreshToken: $t) { revoked } }", {"t": SURROGATE}),
    "createDevice": (
        "mutation($i: CreateDeviceInput!) { createDevice(input: $i) { device { id } } }",
        {"i": {"name": SURROGATE}},
    ),
    "updateHome": (
        "mutation($z: String) { updateHome(input: {timeZone: $z}) { home { timeZone } } }",
        {"z": "Europe/\udfffBerlin"},
    ),
    "variable-name": ("query { me { username } }", {"\udc00": 1}),
    "deep-in-a-list": ("query { me { username } }", {"v": [[{"k": ["ok", "\ud83d"]}]]}),
}


@pytest.mark.parametrize(("query", "variables"), OPERATIONS.values(), ids=OPERATIONS.keys())
def test_lone_surrogates_are_bad_input_and_change_nothing(api, user, query, variables):
    devices = [make_device(user, key) for key in kind_keys()[:1]]
    update = "mutation($id: ID!, $n: String) { updateDevice(id: $id, input: {name: $n}) { device { id } } }"
    before = database()
    for sent, values in [(query, variables), (update, {"id": str(devices[0].pk), "n": SURROGATE})]:
        response = api.post(sent, values, user=user, REMOTE_ADDR="10.9.0.1")
        assert response.status_code == 400, response.content[:300]
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert "surrogate" in error["message"]
    assert database() == before


def test_a_surrogate_in_the_query_text_is_bad_input_and_an_escaped_one_a_syntax_error(api, user):
    literal = 'mutation { loginUser(username: "a\ud800b", password: "x") { token } }'
    assert api.error(literal)["extensions"]["code"] == "BAD_USER_INPUT"
    named = api.post("query Q { me { username } }", user=user)
    assert named.status_code == 200
    body = json.dumps({"query": "query Q { me { username } }", "operationName": "Q\ud800"})
    refused = api.client.post("/graphql/", body, content_type="application/json")
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # "\ud800" written as a GraphQL escape: the GraphQL spec makes it a syntax error.
    escaped = 'mutation { loginUser(username: "a\\ud800b", password: "x") { token } }'
    assert api.error(escaped)["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


# Misspellings of the schema's names, each of which graphql-core answers with a suggestion.
MISSPELT = {
    "field": ("{ device(id: 1) { nam } }", None),
    "type": ("{ device(id: 1) { ... on Devise { id } } }", None),
    "argument": ('{ energyHistory(strt: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z", interval: HOUR) '
                 "{ start } }", None),
    "enum-literal": ('{ energyHistory(start: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z", interval: HOURS) '
                     "{ start } }", None),
    "enum-variable": (
        "query($i: Interval!) { energyHistory(start: \"2026-01-01T00:00:00Z\", end: \"2026-01-02T00:00:00Z\", "
        "interval: $i) { start } }",
        {"i": "HOURS"},
    ),
    "input-field": (
        "mutation($i: UpdateDeviceInput!) { updateDevice(id: 1, input: $i) { device { id } } }",
        {"i": {"nme": "renamed"}},
    ),
}  # fmt: skip


@pytest.mark.parametrize(("query", "variables"), MISSPELT.values(), ids=MISSPELT.keys())
def test_errors_suggest_the_schemas_names_only_when_introspection_is_on(api, user, settings, query, variables):
    settings.HEMS_GRAPHQL_INTROSPECTION = True
    helpful = api.error(query, variables, user=user)
    assert "Did you mean" in helpful["message"], helpful
    settings.HEMS_GRAPHQL_INTROSPECTION = False
    quiet = api.error(query, variables, user=user)
    assert "Did you mean" not in quiet["message"], quiet
    assert quiet["message"] == helpful["message"][: len(quiet["message"])]  # the same error, less said
    assert quiet["extensions"]["code"] == helpful["extensions"]["code"]


SHAPES = settings(
    max_examples=int(os.environ.get("HEMS_FUZZ_EXAMPLES", "30")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
BOTTOMS = ["...F0", "...Missing", "me { username }", "__typename", "... on Query { ...F0 }", "allDevices { id }"]


def test_any_tower_of_fragments_is_answered_at_once(api, user):
    """Any depth, width and bottom (cycles, unknown fragments, fields, inline fragments):
    an answer or a coded refusal, each in well under a second."""

    @SHAPES
    @given(st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=6), st.sampled_from(BOTTOMS))
    def check(levels, width, bottom):
        started = time.monotonic()
        with at_most(10):
            response = api.post(fragment_tower(levels, bottom, width), user=user)
        assert time.monotonic() - started < 1.0, (levels, width, bottom)
        assert response.status_code < 500
        codes = {error["extensions"]["code"] for error in response.json().get("errors") or []}
        assert codes <= {"QUERY_TOO_COMPLEX", "GRAPHQL_VALIDATION_FAILED"}, (levels, width, bottom, codes)

    check()


def test_any_nesting_of_json_is_a_client_error_at_worst(api, user):
    """Lists or objects nested to any depth, in the variables, the query or the body itself."""
    shells = {
        "variables": ('{"query": "query($v: String) { me { username } }", "variables": {"v": ', "}}"),
        "query": ('{"query": ', "}"),
        "body": ("", ""),
    }

    @SHAPES
    @given(st.integers(min_value=1, max_value=6000), st.sampled_from(["[", '{"a": ']), st.sampled_from(sorted(shells)))
    def check(depth, opening, where):
        closing = "]" if opening == "[" else "}"
        before, after = shells[where]
        body = before + opening * depth + "1" + closing * depth + after
        response = api.client.post("/graphql/", body, content_type="application/json")
        assert response.status_code in {200, 400}, (depth, opening, where, response.content[:200])
        codes = {error["extensions"]["code"] for error in response.json().get("errors") or []}
        assert "INTERNAL" not in codes

    check()
