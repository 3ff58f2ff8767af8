"""The API reads no cookie, so it sets none: no CSRF token minted for every answer."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_an_answer_sets_no_csrf_cookie(api, user):
    response = api.post("{ me { username } }", user=user)
    assert response.status_code == 200 and response.json()["data"]["me"]["username"] == "alice"
    assert "csrftoken" not in response.cookies


def test_a_session_cookie_still_authenticates_nothing(client, user):
    client.force_login(user)
    response = client.post("/graphql/", {"query": "{ me { username } }"}, content_type="application/json")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "csrftoken" not in response.cookies
