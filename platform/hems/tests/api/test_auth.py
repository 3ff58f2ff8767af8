"""Tokens: login, refresh, verify, revoke, and every way a token can be wrong."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from freezegun import freeze_time

from hems.devices.models import Device
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse staple 42"

LOGIN = """
mutation Login($username: String!, $password: String!) {
  loginUser(username: $username, password: $password) { token refreshToken payload }
}
"""
REFRESH = "mutation R($t: String!) { refreshToken(refreshToken: $t) { token refreshToken payload } }"
VERIFY = "mutation V($t: String!) { verifyToken(token: $t) { payload } }"
REVOKE = "mutation X($t: String!) { revokeToken(refreshToken: $t) { revoked } }"
ME = "{ me { username home { latitude longitude timeZone } } }"

# Every operation that needs a caller, with variables that would otherwise be valid.
PROTECTED = [
    ("me", ME, {}),
    ("allDevices", "{ allDevices { id } }", {}),
    ("device", "query($id: ID!) { device(id: $id) { id } }", {"id": "1"}),
    ("energyStats", "{ energyStats { netGridFlow } }", {}),
    (
        "energyHistory",
        '{ energyHistory(start: "2026-06-01T00:00:00Z", end: "2026-06-02T00:00:00Z", interval: HOUR) { start } }',
        {},
    ),
    ("createDevice", "mutation($i: CreateDeviceInput!) { createDevice(input: $i) { device { id } } }", "create"),
    ("updateDevice", 'mutation($id: ID!) { updateDevice(id: $id, input: {name: "x"}) { device { id } } }', "id"),
    ("deleteDevice", "mutation($id: ID!) { deleteDevice(id: $id) { id } }", "id"),
    ("updateHome", "mutation { updateHome(input: {latitude: 10}) { home { latitude } } }", {}),
]


def login(api, username="alice", password=PASSWORD):
    return api.execute(LOGIN, {"username": username, "password": password})


def test_login_returns_tokens_that_authenticate(api, user):
    tokens = login(api)["data"]["loginUser"]
    assert tokens["token"] and tokens["refreshToken"]
    assert tokens["payload"]["username"] == "alice"
    me = api.data(ME, token=tokens["token"])["me"]
    assert me["username"] == "alice"
    assert me["home"]["timeZone"] == settings.HEMS_DEFAULT_TIME_ZONE


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(api, user):
    wrong_password = login(api, password="not it at all")
    unknown_user = login(api, username="mallory", password="not it at all")
    assert wrong_password["data"]["loginUser"] is None
    assert wrong_password["errors"][0]["message"] == unknown_user["errors"][0]["message"]
    assert wrong_password["errors"][0]["extensions"] == unknown_user["errors"][0]["extensions"]
    assert wrong_password["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(("operation", "query", "variables"), PROTECTED, ids=[p[0] for p in PROTECTED])
def test_every_operation_needs_a_token_and_writes_nothing_without_one(api, user, operation, query, variables):
    device = make_device(user, kind_keys()[0], name="untouched")
    if variables == "id":
        variables = {"id": str(device.pk)}
    elif variables == "create":
        variables = {"i": {"name": "sneaky"}}
    result = api.execute(query, variables)
    assert result["errors"][0]["extensions"]["code"] in {"UNAUTHENTICATED", "BAD_USER_INPUT"}
    if variables != {"i": {"name": "sneaky"}}:
        assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert list(Device.objects.values_list("name", flat=True)) == ["untouched"]
    user.home.refresh_from_db()
    assert user.home.latitude == settings.HEMS_DEFAULT_LATITUDE


def test_an_expired_access_token_is_refused(api, user):
    with freeze_time("2026-06-21 12:00:00"):
        token = login(api)["data"]["loginUser"]["token"]
    with freeze_time("2026-06-21 12:14:00"):
        assert api.data(ME, token=token)["me"]["username"] == "alice"
    with freeze_time("2026-06-21 12:16:00"):
        error = api.error(ME, token=token)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"
    assert "expired" in error["message"].lower()


def forge(payload: dict, key: str, algorithm: str = "HS256") -> str:
    return jwt.encode(payload, key, algorithm=algorithm)


def unsigned(payload: dict) -> str:
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(payload)}."


@pytest.mark.parametrize("how", ["tampered", "other key", "alg none", "garbage", "wrong scheme"])
def test_bad_tokens_are_refused(api, user, other_user, how):
    good = login(api)["data"]["loginUser"]
    payload = dict(good["payload"])
    header = None
    if how == "tampered":
        head, body, signature = good["token"].split(".")
        forged_body = (
            base64.urlsafe_b64encode(json.dumps({**payload, "username": "bob"}).encode()).rstrip(b"=").decode()
        )
        token = f"{head}.{forged_body}.{signature}"
    elif how == "other key":
        token = forge({**payload, "username": "bob"}, "a completely different signing key of 32+ bytes")
    elif how == "alg none":
        token = unsigned({**payload, "username": "bob"})
    elif how == "garbage":
        token = "not.a.token"
    else:
        token, header = None, f"Token {good['token']}"
    kwargs = {"HTTP_AUTHORIZATION": header} if header else {"token": token}
    error = api.error(ME, **kwargs)
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_refresh_gives_a_new_access_token_and_revoked_refresh_tokens_stop_working(api, user):
    tokens = login(api)["data"]["loginUser"]
    refreshed = api.data(REFRESH, {"t": tokens["refreshToken"]})["refreshToken"]
    assert api.data(ME, token=refreshed["token"])["me"]["username"] == "alice"
    assert api.data(REVOKE, {"t": refreshed["refreshToken"]})["revokeToken"]["revoked"]
    error = api.error(REFRESH, {"t": refreshed["refreshToken"]})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_an_expired_refresh_token_is_refused(api, user):
    with freeze_time(timezone.now() - timedelta(days=8)):
        old = login(api)["data"]["loginUser"]["refreshToken"]
    assert api.error(REFRESH, {"t": old})["extensions"]["code"] == "UNAUTHENTICATED"


def test_verify_returns_the_payload(api, user):
    token = login(api)["data"]["loginUser"]["token"]
    payload = api.data(VERIFY, {"t": token})["verifyToken"]["payload"]
    assert payload["username"] == "alice" and payload["exp"] > payload["origIat"]
    assert api.error(VERIFY, {"t": token + "x"})["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_admin_session_cookie_does_not_authenticate_the_api(api, admin_client, admin_user):
    api.client = admin_client  # logged in to the admin by session cookie
    assert api.error(ME)["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_deactivated_users_token_is_refused(api, user):
    token = login(api)["data"]["loginUser"]["token"]
    user.is_active = False
    user.save()
    assert api.error(ME, token=token)["extensions"]["code"] == "UNAUTHENTICATED"
