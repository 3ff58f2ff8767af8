"""Login attempts are throttled per account and per address (django-axes), with a code of their own."""

from __future__ import annotations

import pytest
from django.conf import settings
from freezegun import freeze_time

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse staple 42"  # the `user` fixture's
LOGIN = "mutation($u: String!, $p: String!) { loginUser(username: $u, password: $p) { token } }"


def login(api, username, password, address="10.0.0.1", **headers):
    response = api.post(LOGIN, {"u": username, "p": password}, REMOTE_ADDR=address, **headers)
    return response, response.json()


def code(body) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


def fail(api, times, username="alice", addresses=None):
    """Fail ``times`` logins; every one before the limit is a plain wrong-credentials answer."""
    for attempt in range(times):
        address = addresses[attempt] if addresses else "10.0.0.1"
        _, body = login(api, username, "wrong password", address)
        expected = "TOO_MANY_ATTEMPTS" if attempt + 1 >= settings.AXES_FAILURE_LIMIT else "UNAUTHENTICATED"
        assert code(body) == expected, (attempt, body)


def test_an_account_is_locked_after_repeated_failures_from_anywhere_even_with_the_right_password(api, user):
    addresses = [f"10.0.1.{i}" for i in range(settings.AXES_FAILURE_LIMIT)]
    with freeze_time("2026-06-21 12:00:00"):
        fail(api, settings.AXES_FAILURE_LIMIT, addresses=addresses)
        response, body = login(api, "alice", PASSWORD, "10.9.9.9")
    assert response.status_code == 429
    assert code(body) == "TOO_MANY_ATTEMPTS"
    assert body["data"] == {"loginUser": None}
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert body["errors"][0]["extensions"]["retryAfter"] == settings.AXES_COOLOFF_TIME.total_seconds()
    with freeze_time("2026-06-21 12:14:00"):
        assert code(login(api, "alice", PASSWORD, "10.9.9.9")[1]) == "TOO_MANY_ATTEMPTS"
    with freeze_time("2026-06-21 12:16:00"):  # the window has passed since the last failure
        response, body = login(api, "alice", PASSWORD, "10.9.9.9")
    assert response.status_code == 200 and body["data"]["loginUser"]["token"]


def test_other_accounts_are_not_locked_by_someone_elses_failures(api, user, other_user):
    addresses = [f"10.0.2.{i}" for i in range(settings.AXES_FAILURE_LIMIT)]
    fail(api, settings.AXES_FAILURE_LIMIT, addresses=addresses)
    _, body = login(api, "bob", "another long passphrase", "10.0.3.1")
    assert body["data"]["loginUser"]["token"]


def test_an_address_is_locked_after_failures_across_many_accounts(api, user):
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        _, body = login(api, f"guess{attempt}", "wrong password", "192.0.2.7")
    assert code(body) == "TOO_MANY_ATTEMPTS"
    assert code(login(api, "alice", PASSWORD, "192.0.2.7")[1]) == "TOO_MANY_ATTEMPTS"
    assert login(api, "alice", PASSWORD, "192.0.2.8")[1]["data"]["loginUser"]["token"]


def test_unknown_and_existing_accounts_lock_alike(api, user):
    """The lockout does not tell an attacker which usernames exist."""
    fail(api, settings.AXES_FAILURE_LIMIT, username="alice", addresses=[f"10.1.0.{i}" for i in range(9)])
    fail(api, settings.AXES_FAILURE_LIMIT, username="nobody", addresses=[f"10.2.0.{i}" for i in range(9)])
    locked_real = login(api, "alice", "x", "10.3.0.1")[1]
    locked_unknown = login(api, "nobody", "x", "10.3.0.2")[1]
    assert locked_real["errors"][0]["message"] == locked_unknown["errors"][0]["message"]


def test_a_forged_forwarded_for_header_does_not_dodge_the_address_limit(api, user):
    """Without trusted proxies configured, X-Forwarded-For is the client's word and is ignored."""
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(api, f"guess{attempt}", "wrong", "192.0.2.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{attempt}")
    assert code(login(api, "alice", PASSWORD, "192.0.2.9", HTTP_X_FORWARDED_FOR="198.51.100.99")[1]) == (
        "TOO_MANY_ATTEMPTS"
    )


def test_behind_trusted_proxies_the_forwarded_address_counts(api, user, settings):
    settings.HEMS_TRUSTED_PROXIES = 1
    proxy = "172.16.0.1"
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        login(api, f"guess{attempt}", "wrong", proxy, HTTP_X_FORWARDED_FOR="spoofed, 203.0.113.5")
    # The same client is locked whatever it puts first in the header; another client
    # behind the same proxy is not.
    assert code(login(api, "alice", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.5")[1]) == (
        "TOO_MANY_ATTEMPTS"
    )
    assert login(api, "alice", PASSWORD, proxy, HTTP_X_FORWARDED_FOR="203.0.113.6")[1]["data"]["loginUser"]["token"]


def test_the_admin_login_is_throttled_too(client, admin_user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "admin", "password": "wrong"}, REMOTE_ADDR="10.5.0.1")
    response = client.post("/admin/login/", {"username": "admin", "password": "password"}, REMOTE_ADDR="10.5.0.2")
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
