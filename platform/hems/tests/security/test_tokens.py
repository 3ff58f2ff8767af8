"""Forged and stale tokens (made with PyJWT) are refused everywhere, and write nothing."""

from __future__ import annotations

import time

import jwt
import pytest
from django.conf import settings
from freezegun import freeze_time
from graphene.utils.str_converters import to_camel_case
from graphql_jwt.shortcuts import get_token

from hems.plugins import registry
from hems.testing.api import kind_input
from hems.tests.factories import kind_keys
from hems.tests.security.snapshot import database

pytestmark = pytest.mark.django_db

KEY = settings.GRAPHQL_JWT["JWT_SECRET_KEY"]
ME = "{ me { username } }"
CREATE = "mutation($i: CreateDeviceInput!) { createDevice(input: $i) { device { id } } }"
LOGIN = "mutation($u: String!, $p: String!) { loginUser(username: $u, password: $p) { token refreshToken } }"
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { token refreshToken } }"
REVOKE = "mutation($t: String!) { revokeToken(refreshToken: $t) { revoked } }"


def claims(username="alice", **changes) -> dict:
    now = int(time.time())
    return {"username": username, "exp": now + 600, "origIat": now, **changes}


def forgeries() -> dict[str, callable]:
    """Ways to make a token without the right to one."""

    def tampered(user):
        head, _, signature = get_token(user).split(".")
        body = jwt.utils.base64url_encode(jwt.api_jws.json.dumps(claims("bob")).encode()).decode()
        return f"{head}.{body}.{signature}"

    return {
        "expired": lambda user: jwt.encode(claims(exp=int(time.time()) - 1, origIat=int(time.time()) - 901), KEY),
        "tampered": tampered,
        "another key": lambda user: jwt.encode(claims("bob"), "not the server's key, but 32+ bytes long"),
        "alg none": lambda user: jwt.encode(claims("bob"), None, algorithm="none"),
        "another algorithm": lambda user: jwt.encode(claims("bob"), KEY, algorithm="HS384"),
        "no expiry": lambda user: jwt.encode({"username": "bob", "origIat": int(time.time())}, KEY),
        "unknown user": lambda user: jwt.encode(claims("mallory"), KEY),
        "empty": lambda user: "",
        "garbage": lambda user: "a.b.c",
    }


@pytest.mark.parametrize("how", sorted(forgeries()))
@pytest.mark.parametrize("query", [ME, CREATE], ids=["query", "mutation"])
def test_forged_tokens_are_refused_and_write_nothing(api, user, other_user, how, query):
    token = forgeries()[how](user)
    before = database()
    result = api.execute(query, valid_create() if query == CREATE else None, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", result
    assert not (result.get("data") or {}).get("me")
    assert database() == before


def test_forged_tokens_are_refused_by_verify_token(api, user, other_user):
    for how, forge in forgeries().items():
        result = api.execute("mutation($t: String!) { verifyToken(token: $t) { payload } }", {"t": forge(user)})
        assert result.get("errors") and result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", (how, result)


def valid_create() -> dict:
    key = kind_keys()[0]
    return {"i": {"name": "forged", to_camel_case(key): kind_input(key, dict(registry().kind(key).example))}}


def test_the_genuine_token_works_so_the_refusals_above_mean_something(api, user):
    genuine = {"HTTP_AUTHORIZATION": f"Bearer {jwt.encode(claims(), KEY)}"}
    assert api.data(ME, **genuine)["me"]["username"] == "alice"
    assert api.data(CREATE, valid_create(), **genuine)["createDevice"]["device"]["id"]


def test_refresh_tokens_revoked_rotated_or_expired_are_refused(api, user):
    tokens = api.data(LOGIN, {"u": "alice", "p": "correct horse staple 42"})["loginUser"]
    rotated = api.data(REFRESH, {"t": tokens["refreshToken"]})["refreshToken"]
    assert rotated["refreshToken"] != tokens["refreshToken"]
    assert api.data(REVOKE, {"t": rotated["refreshToken"]})["revokeToken"]["revoked"]
    for stale in (tokens["refreshToken"], rotated["refreshToken"], tokens["token"], "", "0" * 40):
        assert api.error(REFRESH, {"t": stale})["extensions"]["code"] == "UNAUTHENTICATED", stale
    with freeze_time("2026-01-01"):
        old = api.data(LOGIN, {"u": "alice", "p": "correct horse staple 42"})["loginUser"]["refreshToken"]
    with freeze_time("2026-01-09"):  # past the 7 days
        assert api.error(REFRESH, {"t": old})["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_refresh_token_is_not_an_access_token(api, user):
    tokens = api.data(LOGIN, {"u": "alice", "p": "correct horse staple 42"})["loginUser"]
    assert api.error(ME, token=tokens["refreshToken"])["extensions"]["code"] == "UNAUTHENTICATED"
