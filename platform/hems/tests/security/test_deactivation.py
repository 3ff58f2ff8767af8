"""Deactivating a user ends every token of the account: refresh tokens stop renewing at
once, and reactivating the account does not revive them (a new login is needed)."""

from __future__ import annotations

import pytest
from graphql_jwt.refresh_token.models import RefreshToken

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse staple 42"
LOGIN = "mutation($u: String!, $p: String!) { loginUser(username: $u, password: $p) { token refreshToken } }"
REFRESH = "mutation($t: String!) { refreshToken(refreshToken: $t) { token refreshToken } }"
ME = "{ me { username } }"


def login(api) -> dict:
    return api.data(LOGIN, {"u": "alice", "p": PASSWORD})["loginUser"]


def refused(api, query, variables=None, **kwargs):
    error = api.error(query, variables, **kwargs)
    assert error["extensions"]["code"] == "UNAUTHENTICATED", error


def test_deactivating_a_user_ends_their_tokens_for_good(api, user):
    sessions = [login(api), login(api)]
    assert api.data(REFRESH, {"t": sessions[0]["refreshToken"]})["refreshToken"]["token"]
    user.is_active = False
    user.save()
    for session in sessions:
        refused(api, ME, HTTP_AUTHORIZATION=f"Bearer {session['token']}")
    refused(api, REFRESH, {"t": sessions[1]["refreshToken"]})
    assert not RefreshToken.objects.filter(user=user, revoked__isnull=True).exists()
    user.is_active = True
    user.save()
    # Back in only by logging in again: the tokens held while deactivated stay dead.
    refused(api, REFRESH, {"t": sessions[1]["refreshToken"]})
    assert api.data(REFRESH, {"t": login(api)["refreshToken"]})["refreshToken"]["token"]


def test_a_user_deactivated_without_a_save_cannot_renew_either(api, user, django_user_model):
    session = login(api)
    django_user_model.objects.filter(pk=user.pk).update(is_active=False)  # no signal runs
    refused(api, REFRESH, {"t": session["refreshToken"]})


def test_other_users_keep_their_tokens(api, user, other_user):
    theirs = api.data(LOGIN, {"u": "bob", "p": "another long passphrase"})["loginUser"]
    user.is_active = False
    user.save()
    assert api.data(REFRESH, {"t": theirs["refreshToken"]})["refreshToken"]["token"]
