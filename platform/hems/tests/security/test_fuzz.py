"""A GraphQL fuzzer (schemathesis, which generates with hypothesis-graphql) over every
operation of the committed schema: whatever it sends, no server error and no INTERNAL."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, given, settings

from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

SCHEMA = schemathesis.graphql.from_file((Path(__file__).resolve().parents[4] / "schema.graphql").read_text())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
FUZZ = settings(
    max_examples=int(os.environ.get("HEMS_FUZZ_EXAMPLES", "25")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_fuzzer_finds_no_server_error(api, user, other_user, label):
    for key in kind_keys():  # something to find, update and delete, the caller's and another's
        make_device(user, key)
        make_device(other_user, key)
    seen = set()

    @FUZZ
    @given(OPERATIONS[label].as_strategy())
    def check(case):
        with transaction.atomic():
            response = api.post(case.body, user=user, REMOTE_ADDR="10.8.0.1")
            transaction.set_rollback(True)
        assert response.status_code < 500, (case.body, response.content[:300])
        body = response.json()
        codes = {error.get("extensions", {}).get("code") for error in body.get("errors") or []}
        assert "INTERNAL" not in codes, (case.body, body)
        assert None not in codes, (case.body, body)  # every error carries a code
        seen.add(case.body)

    check()
    assert len(seen) > 1
