"""One request cannot make the server do unbounded work; errors carry codes, not internals."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_deeply_nested_queries_are_refused(api, user):
    nested = "{ me { home { latitude } } }"
    assert api.data(nested, user=user)
    deep = (
        "query { "
        + "__schema { types { fields { type { ofType { ofType { ofType { ofType { name } } } } } } } }"
        + " }"
    )
    error = api.error(deep, user=user)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "deeper" in error["message"]


def test_aliased_to_death_queries_are_refused_before_running(api, user, django_assert_max_num_queries):
    aliases = " ".join(f"a{i}: energyStats {{ netGridFlow }}" for i in range(300))
    with django_assert_max_num_queries(1):  # the caller, from the token; nothing else runs
        error = api.error(f"{{ {aliases} }}", user=user)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_fragment_expansion_counts_towards_the_limit(api, user):
    fragment = "fragment F on EnergyStats { " + " ".join(f"f{i}: netGridFlow" for i in range(20)) + " }"
    spreads = " ".join(f"s{i}: energyStats {{ ...F }}" for i in range(20))
    error = api.error(f"{{ {spreads} }} {fragment}", user=user)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_oversized_queries_are_refused(api, user, settings):
    query = "{ me { username } }" + " " * settings.HEMS_GRAPHQL_MAX_QUERY_LENGTH
    assert api.error(query, user=user)["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_syntax_errors_and_unknown_fields_have_codes(api, user):
    assert api.error("{ me { ", user=user)["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert api.error("{ me { password } }", user=user)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_internal_failures_reveal_nothing(api, user, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError('relation "hems_device_state" does not exist: SELECT secret FROM passwords')

    monkeypatch.setattr("hems.energy.cache.stats_for", broken)
    result = api.execute("{ energyStats { netGridFlow } }", user=user)
    assert result["errors"] == [
        {
            "message": "Internal server error.",
            "locations": [{"line": 1, "column": 3}],
            "path": ["energyStats"],
            "extensions": {"code": "INTERNAL"},
        }
    ]


def test_introspection_follows_the_setting(api, user, settings):
    settings.HEMS_GRAPHQL_INTROSPECTION = True
    assert api.data("{ __schema { queryType { name } } }", user=user)
    settings.HEMS_GRAPHQL_INTROSPECTION = False
    assert api.error("{ __schema { queryType { name } } }", user=user)["extensions"]["code"] == (
        "GRAPHQL_VALIDATION_FAILED"
    )


def test_graphiql_on_get_only_when_enabled(client, settings):
    settings.HEMS_GRAPHIQL = True
    page = client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert page.status_code == 200 and b"graphiql" in page.content.lower()
    settings.HEMS_GRAPHIQL = False
    refused = client.get("/graphql/", {"query": "{ me { username } }"}, HTTP_ACCEPT="text/html")
    assert refused.status_code == 405
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
