"""Any value in any mutation's input gets success or a documented error code, never
INTERNAL and never a partial write (hypothesis, a fixed number of derandomized examples,
each rolled back)."""

from __future__ import annotations

import json
import os
from collections import Counter
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import transaction
from graphene.utils.str_converters import to_camel_case
from graphql import GraphQLEnumType, GraphQLInputObjectType, GraphQLNonNull, get_named_type
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hems.api.schema import schema
from hems.devices.models import Device
from hems.plugins import registry
from hems.testing.api import kind_input
from hems.tests.factories import kind_keys, make_device
from hems.tests.security.snapshot import database

pytestmark = pytest.mark.django_db

EXAMPLES = settings(
    max_examples=int(os.environ.get("HEMS_FUZZ_EXAMPLES", "30")),
    derandomize=True,  # the same examples every run: a CI failure reproduces
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CREATE = "mutation($i: CreateDeviceInput!) { createDevice(input: $i) { device { id name kind status } } }"
UPDATE = "mutation($id: ID!, $i: UpdateDeviceInput!) { updateDevice(id: $id, input: $i) { device { id name } } }"
DELETE = "mutation($id: ID!) { deleteDevice(id: $id) { id } }"
HOME = "mutation($i: UpdateHomeInput!) { updateHome(input: $i) { home { latitude longitude timeZone } } }"
LOGIN = "mutation($u: String!, $p: String!) { loginUser(username: $u, password: $p) { token } }"
REFRESH = "mutation($t: String) { refreshToken(refreshToken: $t) { token } }"
VERIFY = "mutation($t: String) { verifyToken(token: $t) { payload } }"
REVOKE = "mutation($t: String) { revokeToken(refreshToken: $t) { revoked } }"

# Values a hostile client can put in JSON (Python's json also reads NaN and Infinity), lone
# UTF-16 surrogates (JSON's \u escapes carry them) and the calendar's extremes among them.
EXTREME_INSTANTS = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00", "9999-12-31T23:59:59+14:00"]
TRICKY_TEXT = [
    *("", "\x00", "a\x00b", "NaN", "Infinity", "-0", "1e309", "1.7e308", "12:00:00", "25:61:00", "mon,tue", "AUTO"),
    *("a\ud800b", "\udfff", "\ud83d", *EXTREME_INSTANTS),
]
HUGE = [1.7e308, -1.7e308, 1e308, 8.98e307, 1e300, 5e-324, 2.0**63, 2**64, -(2**63)]


def nested(depth: int, leaf=0):
    """A value nested ``depth`` lists deep (beyond any input of the API past 32)."""
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


DEEP = st.integers(min_value=20, max_value=300).map(nested)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(TRICKY_TEXT),
)
ANY = st.one_of(SCALARS, st.lists(SCALARS, max_size=3), st.dictionaries(st.text(max_size=8), SCALARS, max_size=2), DEEP)
FLOATS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e7, max_value=1e7),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.sampled_from(HUGE),
)
NAMES = st.one_of(
    st.text(min_size=1, max_size=100),
    st.text(max_size=120),
    st.text(min_size=200, max_size=400),
    st.sampled_from(TRICKY_TEXT),
    st.text(alphabet=st.characters(categories=["Cs", "Ll"]), min_size=1, max_size=8),  # surrogates among letters
)


def value_for(graphql_type, example=None) -> st.SearchStrategy:
    """Mostly values of the field's own type, near the kind's example (so model validation
    is reached and some inputs succeed), sometimes anything at all."""
    named = get_named_type(graphql_type)
    if isinstance(named, GraphQLEnumType):
        own = st.one_of(st.sampled_from(sorted(named.values)), st.text(max_size=12))
    elif isinstance(named, GraphQLInputObjectType):
        own = input_object(named)
    elif named.name == "Float":
        near = (
            st.sampled_from([0, -1, 0.5, 1.01, 2, 1e6, 1e300]).map(lambda f: example * f) if example else st.nothing()
        )
        own = st.one_of(FLOATS, near, near)
    elif named.name == "Time":
        own = st.one_of(st.times().map(lambda t: t.isoformat()), st.text(max_size=12), st.sampled_from(TRICKY_TEXT))
    else:
        own = NAMES
    if example is not None:
        own = st.one_of(st.just(example), own)
    return st.one_of(own, own, own, own, own, ANY)


def input_object(input_type: GraphQLInputObjectType, examples: dict | None = None) -> st.SearchStrategy:
    """A dict for the input type: required fields usually present, optional ones sometimes."""
    examples = examples or {}
    fields = {}
    optional = {}
    for name, field in input_type.fields.items():
        strategy = value_for(field.type, examples.get(name))
        (fields if isinstance(field.type, GraphQLNonNull) else optional)[name] = strategy
    return st.fixed_dictionaries(fields, optional=optional)


def kind_examples(kind_key: str) -> dict:
    """The kind's example attributes as GraphQL input values."""
    return kind_input(kind_key, dict(registry().kind(kind_key).example))


def with_stray_field(base: st.SearchStrategy, names: list[str]) -> st.SearchStrategy:
    """The dicts of ``base``, some with one more field from ``names`` holding anything."""
    stray = st.tuples(st.sampled_from(names), ANY).map(lambda pair: dict([pair]))
    return st.tuples(base, st.one_of(st.just({}), stray)).map(lambda parts: {**parts[1], **parts[0]})


def type_named(name: str) -> GraphQLInputObjectType:
    return schema.graphql_schema.get_type(name)


@contextmanager
def rolled_back():
    """Each example starts from the same database: a savepoint, always rolled back."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def assert_safe(api, query, variables, allowed, **auth) -> dict:
    """Send, and check the contract: success, or one of the ``allowed`` codes with
    nothing written; never a server error."""
    before = database()
    response = api.post(query, variables, **auth)
    assert response.status_code < 500, response.content[:300]
    body = response.json()
    codes = [error.get("extensions", {}).get("code") for error in body.get("errors") or []]
    assert "INTERNAL" not in codes, (variables, body)
    if codes:
        assert set(codes) <= allowed, (variables, body)
        assert database() == before, f"a refused mutation wrote: {variables!r}"
    return body


def json_safe(variables):
    """What a client sends: the same variables through a JSON round trip (NaN included)."""
    return json.loads(json.dumps(variables))


@pytest.mark.parametrize("kind_key", kind_keys())
def test_create_device_with_any_input(api, user, kind_key):
    field = to_camel_case(kind_key)
    create_type = type_named("CreateDeviceInput")
    kind_type = create_type.fields[field].type
    others = [name for name in create_type.fields if name not in {"name", "status", field}]
    inputs = with_stray_field(
        st.fixed_dictionaries(
            {"name": NAMES, field: st.one_of(*[input_object(kind_type, kind_examples(kind_key))] * 5, ANY)},
            optional={"status": value_for(create_type.fields["status"].type)},
        ),
        others,
    )

    outcomes = Counter()
    floats = [name for name, f in get_named_type(kind_type).fields.items() if get_named_type(f.type).name == "Float"]
    huge = {**kind_examples(kind_key), **dict.fromkeys(floats, 1.7e308)}

    @EXAMPLES
    @given(inputs)
    @example({"name": "Huge", field: huge})  # every number of the kind at 1.7e308
    @example({"name": "a\ud800b", field: kind_examples(kind_key)})
    def check(data):
        with rolled_back():
            count = Device.objects.count()
            body = assert_safe(api, CREATE, json_safe({"i": data}), {"BAD_USER_INPUT"}, user=user)
            outcomes["refused" if body.get("errors") else "created"] += 1
            if not body.get("errors"):
                created = Device.objects.get(pk=body["data"]["createDevice"]["device"]["id"])
                assert Device.objects.count() == count + 1 and created.owner_id == user.pk
                created.specific.full_clean()  # what was written is valid

    check()
    assert outcomes["created"] and outcomes["refused"], outcomes  # both paths were exercised


@pytest.mark.parametrize("kind_key", kind_keys())
def test_update_device_with_any_input(api, user, other_user, kind_key):
    mine = make_device(user, kind_key)
    theirs = make_device(other_user, kind_key)
    update_type = type_named("UpdateDeviceInput")
    ids = st.one_of(st.just(str(mine.pk)), st.just(str(mine.pk)), st.just(str(theirs.pk)), ANY.map(str))
    own = to_camel_case(kind_key)
    inputs = with_stray_field(
        st.fixed_dictionaries(
            {},
            optional={
                "name": NAMES,
                "status": value_for(update_type.fields["status"].type),
                own: st.one_of(*[input_object(update_type.fields[own].type, kind_examples(kind_key))] * 5, ANY),
            },
        ),
        sorted(update_type.fields),
    )

    outcomes = Counter()

    @EXAMPLES
    @given(ids, inputs)
    def check(device_id, data):
        with rolled_back():
            body = assert_safe(
                api, UPDATE, json_safe({"id": device_id, "i": data}), {"BAD_USER_INPUT", "NOT_FOUND"}, user=user
            )
            outcomes["refused" if body.get("errors") else "updated"] += 1
            if not body.get("errors"):
                assert body["data"]["updateDevice"]["device"]["id"] == str(mine.pk)
                mine.refresh_from_db()
                Device.objects.get(pk=mine.pk).specific.full_clean()  # what was written is still valid

    check()
    assert outcomes["updated"] and outcomes["refused"], outcomes


def test_delete_device_with_any_id(api, user, other_user):
    mine = make_device(user, kind_keys()[0])
    theirs = make_device(other_user, kind_keys()[0])

    @EXAMPLES
    @given(st.one_of(st.just(str(mine.pk)), st.just(str(theirs.pk)), ANY))
    def check(device_id):
        with rolled_back():
            body = assert_safe(api, DELETE, json_safe({"id": device_id}), {"BAD_USER_INPUT", "NOT_FOUND"}, user=user)
            if not body.get("errors"):
                assert str(device_id) == str(mine.pk)
            assert Device.objects.filter(pk=theirs.pk).exists()

    check()


def test_update_home_with_any_input(api, user):
    @EXAMPLES
    @given(input_object(type_named("UpdateHomeInput")).map(lambda i: {"i": i}) | ANY.map(lambda v: {"i": v}))
    def check(variables):
        with rolled_back():
            body = assert_safe(api, HOME, json_safe(variables), {"BAD_USER_INPUT"}, user=user)
            if not body.get("errors"):
                user.home.refresh_from_db()
                user.home.full_clean()

    check()


@pytest.mark.parametrize(
    ("query", "names"),
    [(LOGIN, ("u", "p")), (REFRESH, ("t",)), (VERIFY, ("t",)), (REVOKE, ("t",))],
    ids=["loginUser", "refreshToken", "verifyToken", "revokeToken"],
)
def test_token_mutations_with_any_input(api, user, query, names):
    allowed = {"BAD_USER_INPUT", "UNAUTHENTICATED", "TOO_MANY_ATTEMPTS"}

    @EXAMPLES
    @given(st.fixed_dictionaries({name: st.one_of(NAMES, NAMES, ANY) for name in names}))
    @example(dict.fromkeys(names, "a\ud800b"))
    @example(dict.fromkeys(names, nested(200)))
    def check(variables):
        with rolled_back():
            body = assert_safe(api, query, json_safe(variables), allowed, REMOTE_ADDR="10.7.0.1")
            if not body.get("errors") and query == LOGIN:
                pytest.fail(f"logged in with {variables!r}")

    check()


HISTORY = (
    "query($s: DateTime!, $e: DateTime!, $i: Interval!, $d: ID!) { "
    "energyHistory(start: $s, end: $e, interval: $i) { start productionWh gridImportWh } "
    "device(id: $d) { energyHistory(start: $s, end: $e, interval: $i) { start energyWh } } }"
)
INSTANTS = st.one_of(
    st.sampled_from(EXTREME_INSTANTS),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])).map(
        datetime.isoformat
    ),
    st.datetimes().map(datetime.isoformat),  # naive
    ANY,
)


def test_energy_history_with_any_range(api, user):
    """Any instants of the calendar (its first and last second included) and any interval:
    buckets, or BAD_USER_INPUT / QUERY_TOO_COMPLEX; never INTERNAL."""
    device = make_device(user, kind_keys()[0])
    intervals = st.one_of(st.sampled_from(["HOUR", "DAY", "WEEK", "MONTH"]), ANY)

    @EXAMPLES
    @given(INSTANTS, INSTANTS, intervals)
    @example("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "MONTH")
    @example("0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z", "HOUR")
    @example("9999-12-30T00:00:00Z", "9999-12-31T23:59:59Z", "DAY")
    @example("9999-12-01T00:00:00Z", "9999-12-31T23:59:59Z", "WEEK")
    def check(start, end, interval):
        variables = json_safe({"s": start, "e": end, "i": interval, "d": str(device.pk)})
        assert_safe(api, HISTORY, variables, {"BAD_USER_INPUT", "QUERY_TOO_COMPLEX"}, user=user)

    check()
