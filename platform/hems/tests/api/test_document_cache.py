"""Documents are parsed and validated once per text, and still checked per request where it matters."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import hems.api.documents as documents
from hems.api.devices.plan import as_written_before
from hems.api.documents import Checked, DocumentCache
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

STATS = "{ energyStats { netGridFlow currentProduction } }"
PER_DEVICE = "query($s: DateTime!, $e: DateTime!) { allDevices { id energyHistory(start: $s, end: $e, interval: HOUR) { start energyWh } } }"  # noqa: E501
DAY = {"s": "2026-05-01T00:00:00Z", "e": "2026-05-02T00:00:00Z"}
MONTH = {"s": "2026-05-01T00:00:00Z", "e": "2026-06-01T00:00:00Z"}


@pytest.fixture(autouse=True)
def empty_cache():
    documents.documents.clear()
    yield
    documents.documents.clear()


@pytest.fixture
def validations(monkeypatch):
    """How many times graphql-core validated a document."""
    calls = []
    real = documents.validate

    def counted(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(documents, "validate", counted)
    return calls


def test_the_same_text_is_validated_once(api, user, validations):
    answers = [api.data(STATS, user=user) for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert len(validations) == 1
    api.data("{ me { username } }", user=user)
    assert len(validations) == 2


def test_the_cost_is_measured_again_with_each_requests_variables(api, user, validations):
    """Given a document kept after a cheap request, when the same text comes with
    variables that make its lists long, then it is refused, and the cheap one passes again."""
    assert api.data(PER_DEVICE, DAY, user=user) == {"allDevices": []}
    error = api.error(PER_DEVICE, MONTH, user=user)
    assert error["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert api.data(PER_DEVICE, DAY, user=user) == {"allDevices": []}
    assert len(validations) == 1


def test_a_refused_document_is_checked_afresh_each_time(api, user, validations):
    for _ in range(2):
        assert api.error("{ me { password } }", user=user)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert api.error("{ me { ", user=user)["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert len(validations) == 2  # the unknown field twice; the syntax error never reaches validation
    assert len(documents.documents) == 0


def test_a_change_of_settings_is_a_different_key(api, user, settings, validations):
    """The rules follow the settings as set now (introspection, the limits)."""
    settings.HEMS_GRAPHQL_INTROSPECTION = True
    assert api.data("{ __schema { queryType { name } } }", user=user)
    settings.HEMS_GRAPHQL_INTROSPECTION = False
    assert api.error("{ __schema { queryType { name } } }", user=user)["extensions"]["code"] == (
        "GRAPHQL_VALIDATION_FAILED"
    )
    assert api.data(STATS, user=user)
    settings.HEMS_GRAPHQL_MAX_FIELDS = 1
    assert api.error(STATS, user=user)["extensions"]["code"] == "QUERY_TOO_COMPLEX"


def test_a_kept_document_answers_each_caller_their_own(api, user, other_user):
    mine = make_device(user, kind_keys()[0], name="mine")
    make_device(other_user, kind_keys()[0], name="theirs")
    query = "{ allDevices { id name } }"
    assert api.data(query, user=user) == {"allDevices": [{"id": str(mine.pk), "name": "mine"}]}
    assert api.data(query, user=other_user)["allDevices"][0]["name"] == "theirs"
    assert api.error(query)["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_cache_is_bounded_in_documents_and_in_text():
    cache = DocumentCache(max_documents=2, max_text=10)
    entry = Checked(document=None, reads_variables=False)
    cache.put(("s", "aaa"), entry)
    cache.put(("s", "bbb"), entry)
    assert cache.get(("s", "aaa")) is entry  # now the most recently used
    cache.put(("s", "ccc"), entry)
    assert cache.get(("s", "bbb")) is None and cache.get(("s", "aaa")) is entry and len(cache) == 2
    cache.put(("s", "dddddddd"), entry)  # 8 characters: the text budget leaves room for it alone
    assert len(cache) == 1 and cache.get(("s", "dddddddd")) is entry
    cache.put(("s", "x" * 11), entry)  # larger than the whole budget: never kept
    assert cache.get(("s", "x" * 11)) is None and len(cache) == 1


@pytest.mark.django_db(transaction=True)
def test_the_listing_is_planned_as_written_for_its_query_only(api, user):
    """Outside a transaction (as in production), the devices' query runs with the join
    order as written, sent with its settings in one round trip and so in one transaction
    of its own: the connection keeps its settings."""
    for key in kind_keys():
        make_device(user, key)
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        default = cursor.fetchone()[0]
    with CaptureQueriesContext(connection) as queries:
        listed = api.data("{ allDevices { id kind } }", user=user)["allDevices"]
    assert sorted(device["kind"] for device in listed) == sorted(kind_keys())
    sql = [query["sql"] for query in queries.captured_queries]
    listing = next(text for text in sql if "set_config('join_collapse_limit'" in text)
    assert listing.index("set_config('join_collapse_limit'") < listing.index('FROM "hems_device"')
    with connection.cursor() as cursor:  # what PostgreSQL makes of such a pair: the settings hold for the query
        cursor.execute(f"{as_written_before()}; SELECT current_setting('join_collapse_limit')")
        cursor.nextset()
        assert cursor.fetchone()[0] == "1"
    with CaptureQueriesContext(connection) as queries:
        one = api.data("query($id: ID!) { device(id: $id) { id kind } }", {"id": listed[0]["id"]}, user=user)
    assert one == {"device": listed[0]}
    assert sum("set_config('join_collapse_limit'" in query["sql"] for query in queries.captured_queries) == 1
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        assert cursor.fetchone()[0] == default
        cursor.execute("SHOW enable_hashjoin")
        assert cursor.fetchone()[0] == "on"


@pytest.mark.django_db(transaction=True)
def test_a_connection_binding_on_the_server_plans_the_listing_in_a_transaction_of_its_own(api, user, monkeypatch):
    """Server-side binding takes one statement per query: the settings then go in a
    transaction of their own around the listing, as before."""
    make_device(user, kind_keys()[0])
    monkeypatch.setitem(connection.settings_dict, "OPTIONS", {"server_side_binding": True})
    assert as_written_before() == ""
    with CaptureQueriesContext(connection) as queries:
        listed = api.data("{ allDevices { kind } }", user=user)["allDevices"]
    assert listed == [{"kind": kind_keys()[0]}]
    sql = [query["sql"] for query in queries.captured_queries]
    settings_at = next(i for i, text in enumerate(sql) if "set_config('join_collapse_limit'" in text)
    assert sql[settings_at - 1] == "BEGIN" and 'FROM "hems_device"' in sql[settings_at + 1]
    assert sql[settings_at + 2] == "COMMIT"
