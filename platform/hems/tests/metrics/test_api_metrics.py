"""The API's figures: latency by operation and errors by code, with bounded labels."""

from __future__ import annotations

import json

import pytest
from prometheus_client import REGISTRY

from hems.metrics.api import root_fields
from hems.tests.energy_api import STATS
from hems.tests.metrics.samples import local

pytestmark = pytest.mark.django_db

SECONDS = "hems_api_request_seconds_count"
ERRORS = "hems_api_errors_total"


def labels_in_use(name: str, label: str) -> set[str]:
    return {
        sample.labels[label]
        for family in REGISTRY.collect()
        for sample in family.samples
        if sample.name == name and label in sample.labels
    }


def test_a_query_is_timed_under_its_root_field_without_errors(api, user):
    before = local(SECONDS, operation_type="query", operation="energyStats")
    errors = {
        c: local(ERRORS, operation_type="query", operation="energyStats", code=c) for c in labels_in_use(ERRORS, "code")
    }
    api.data(STATS, user=user)
    api.data(STATS, user=user)
    assert local(SECONDS, operation_type="query", operation="energyStats") == before + 2
    assert local("hems_api_request_seconds_sum", operation_type="query", operation="energyStats") > 0
    after = {
        c: local(ERRORS, operation_type="query", operation="energyStats", code=c) for c in labels_in_use(ERRORS, "code")
    }
    assert after == {c: errors.get(c, 0.0) for c in after}


def test_a_refused_mutation_counts_its_code_once(api, user):
    before = local(ERRORS, operation_type="mutation", operation="createDevice", code="BAD_USER_INPUT")
    timed = local(SECONDS, operation_type="mutation", operation="createDevice")
    answer = api.execute('mutation { createDevice(input: {name: ""}) { device { id } } }', user=user)
    assert answer["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert local(ERRORS, operation_type="mutation", operation="createDevice", code="BAD_USER_INPUT") == before + 1
    assert local(SECONDS, operation_type="mutation", operation="createDevice") == timed + 1


def test_no_token_is_counted_as_unauthenticated(api):
    before = local(ERRORS, operation_type="query", operation="allDevices", code="UNAUTHENTICATED")
    answer = api.execute("{ allDevices { id } }")
    assert answer["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert local(ERRORS, operation_type="query", operation="allDevices", code="UNAUTHENTICATED") == before + 1


def test_the_operation_name_picks_the_operation_but_never_becomes_a_label(api, user):
    document = "query Dashboard { energyStats { timestamp } } query People { me { username } }"
    before = local(SECONDS, operation_type="query", operation="me")
    response = api.client.post(
        "/graphql/",
        json.dumps({"query": document, "operationName": "People"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=api.post("{ me { username } }", user=user).request["HTTP_AUTHORIZATION"],
    )
    assert response.status_code == 200
    assert local(SECONDS, operation_type="query", operation="me") == before + 2
    assert not labels_in_use(SECONDS, "operation") & {"Dashboard", "People"}


def test_whatever_clients_send_the_labels_stay_within_the_schema(api, user):
    # Invented fields, several root fields, garbage, a body that is not JSON: all "other".
    invalid = local(ERRORS, operation_type="query", operation="other", code="GRAPHQL_VALIDATION_FAILED")
    several = local(SECONDS, operation_type="query", operation="other")
    unparsed = local(ERRORS, operation_type="unknown", operation="other", code="GRAPHQL_PARSE_FAILED")
    malformed = local(ERRORS, operation_type="unknown", operation="other", code="BAD_REQUEST")
    for n in range(30):
        api.execute(f"{{ invented{n} {{ id }} }}", user=user)
    api.execute("{ me { username } energyStats { timestamp } }", user=user)
    api.execute("{ this is not graphql", user=user)
    response = api.client.post("/graphql/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert local(ERRORS, operation_type="query", operation="other", code="GRAPHQL_VALIDATION_FAILED") == invalid + 30
    assert local(SECONDS, operation_type="query", operation="other") == several + 31
    assert local(ERRORS, operation_type="unknown", operation="other", code="GRAPHQL_PARSE_FAILED") == unparsed + 1
    assert local(ERRORS, operation_type="unknown", operation="other", code="BAD_REQUEST") == malformed + 1
    allowed = set().union(*root_fields().values()) | {"other"}
    assert labels_in_use(SECONDS, "operation") <= allowed
    assert labels_in_use(SECONDS, "operation_type") <= {"query", "mutation", "subscription", "unknown"}
