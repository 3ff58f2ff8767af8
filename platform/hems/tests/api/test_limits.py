"""One request cannot make the server do unbounded work; errors carry codes, not internals."""

from __future__ import annotations

import pytest

from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db


def test_deeply_nested_queries_are_refused(api, user):
    nested = "{ me { home { latitude } } }"
    assert api.data(nested, user=user)
    deep = (
        "query { "
        + "__schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } }"
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
    refused = client.get("/graphql/", {"query": "{ me { username } }"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 405
    assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# The lists a query asks for count at their length (hems.api.limits): energyHistory its
# buckets, from its arguments; allDevices an estimate.
MONTH = {"s": "2026-05-01T00:00:00Z", "e": "2026-06-01T00:00:00Z"}
MOST_BUCKETS = {"s": "2026-01-01T00:00:00Z", "e": "2026-03-25T08:00:00Z"}  # 2,000 hours
BUCKET = "start productionWh consumptionWh storageChargeWh storageDischargeWh gridImportWh gridExportWh"


def test_many_large_lists_in_one_request_are_refused_before_running(api, user, django_assert_max_num_queries):
    """The issue's request: 124 aliased energyHistory of 2,000 buckets, 248 fields (under
    the field limit), 7 KB, which answered 9.3 MB."""
    aliases = " ".join(f"h{i}:energyHistory(start:$s,end:$e,interval:HOUR){{start}}" for i in range(124))
    query = f"query($s: DateTime!, $e: DateTime!) {{ {aliases} }}"
    assert len(query) < 8000
    with django_assert_max_num_queries(1):  # the caller, from the token; no history read
        result = api.execute(query, MOST_BUCKETS, user=user)
    assert "errors" in result, "answered 248,000 buckets"  # not the answer itself: megabytes
    error = result["errors"][0]
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert "values" in error["message"]


def test_what_a_dashboard_asks_still_passes(api, user):
    """A month by hour (744 buckets) with every field, a day by hour of a device, the
    devices and the stats, in one request; then three of the largest histories."""
    device = make_device(user, kind_keys()[0]).pk
    query = f"""query($s: DateTime!, $e: DateTime!, $d: ID!) {{
      energyStats {{ currentProduction currentConsumption currentStorage {{ percentage }} netGridFlow timestamp }}
      month: energyHistory(start: $s, end: $e, interval: HOUR) {{ {BUCKET} }}
      days: energyHistory(start: $s, end: $e, interval: DAY) {{ {BUCKET} }}
      allDevices {{ id name kind deviceType status powerW ... on StorageDevice {{ capacityWh levelWh percentage }} }}
      device(id: $d) {{ name energyHistory(start: "2026-05-01T00:00:00Z", end: "2026-05-02T00:00:00Z", interval: HOUR)
        {{ start energyWh chargeWh dischargeWh }} }}
    }}"""
    data = api.data(query, {**MONTH, "d": str(device)}, user=user)
    assert len(data["month"]) == 744 and len(data["device"]["energyHistory"]) == 24
    largest = " ".join(f"h{i}: energyHistory(start: $s, end: $e, interval: HOUR) {{ {BUCKET} }}" for i in range(3))
    data = api.data(f"query($s: DateTime!, $e: DateTime!) {{ {largest} }}", MOST_BUCKETS, user=user)
    assert [len(history) for history in data.values()] == [2000] * 3


def test_a_history_per_device_counts_for_every_device(api, user):
    per_device = "{ allDevices { id energyHistory(start: $s, end: $e, interval: HOUR) { start energyWh } } }"
    query = "query($s: DateTime!, $e: DateTime!) " + per_device
    assert api.error(query, MONTH, user=user)["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    day = {"s": "2026-05-01T00:00:00Z", "e": "2026-05-02T00:00:00Z"}
    assert api.data(query, day, user=user) == {"allDevices": []}


def test_a_history_whose_range_cannot_be_read_counts_at_its_most(api, user):
    """Unreadable arguments (refused by the resolver, but measured first) count 2,000 buckets."""
    four = " ".join(f"h{i}: energyHistory(start: $s, end: $e, interval: HOUR) {{ {BUCKET} }}" for i in range(4))
    query = f"query($s: DateTime!, $e: DateTime!) {{ {four} }}"
    assert api.error(query, {"s": "soon", "e": "later"}, user=user)["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert len(api.data(query, MONTH, user=user)) == 4  # four months by hour: 4 x 744 buckets


def test_every_readme_example_passes_the_limits():
    from graphql import parse, validate

    from hems.api.schema import schema
    from hems.api.view import validation_rules
    from hems.tests.api.test_readme_examples import examples

    for document in examples():
        assert validate(schema.graphql_schema, parse(document), validation_rules()) == [], document
