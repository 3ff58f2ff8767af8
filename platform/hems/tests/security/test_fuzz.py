"""A GraphQL fuzzer (schemathesis, which generates with hypothesis-graphql) over every
operation of the committed schema: whatever it sends, no server error and no INTERNAL."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.scalars import CUSTOM_SCALARS

from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

# Besides schemathesis's own values (the "plain" run), the shapes that once broke hems
# (the "hostile" run): the calendar's first and last seconds, magnitudes near the largest
# float, lone UTF-16 surrogates and NUL in text. Built-in scalars take strategies like
# custom ones; the hostile run registers these for its own duration only.
EXTREMES = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00", "9999-12-31T23:59:59-12:00"]
HOSTILE_SCALARS = {
    "DateTime": st.one_of(st.sampled_from(EXTREMES), st.datetimes(timezones=st.just(UTC)).map(datetime.isoformat)).map(
        nodes.String
    ),
    "Float": st.one_of(
        st.floats(allow_nan=False, allow_infinity=False), st.sampled_from([1.7e308, -1.7e308, 1e308, 5e-324])
    ).map(nodes.Float),
    "String": st.one_of(st.text(max_size=30), st.sampled_from(["a\ud800b", "\udfff", "a\x00b"])).map(nodes.String),
}
SCHEMA = schemathesis.graphql.from_file((Path(__file__).resolve().parents[4] / "schema.graphql").read_text())
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}
FUZZ = settings(
    max_examples=int(os.environ.get("HEMS_FUZZ_EXAMPLES", "25")),
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(params=["plain", "hostile"])
def shapes(request, monkeypatch):
    if request.param == "hostile":
        for name, strategy in HOSTILE_SCALARS.items():
            monkeypatch.setitem(CUSTOM_SCALARS, name, strategy)  # what schemathesis.graphql.scalar() fills
    return request.param


@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_fuzzer_finds_no_server_error(api, user, other_user, label, shapes):
    for key in kind_keys():  # something to find, update and delete, the caller's and another's
        make_device(user, key)
        make_device(other_user, key)
    seen = set()
    runs = FUZZ if shapes == "plain" else settings(FUZZ, max_examples=max(5, FUZZ.max_examples // 2))

    @runs
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
