"""Queries compiled once (hems.compiled) answer what their querysets answer, in one query;
the API's user and home lookups use them."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from graphql_jwt.settings import jwt_settings
from graphql_jwt.shortcuts import get_token

from hems.api import tokens
from hems.compiled import CompiledQuery
from hems.devices.models import Home

pytestmark = pytest.mark.django_db


def fields(instance) -> dict:
    return {name: value for name, value in vars(instance).items() if name != "_state"}


def test_the_token_user_is_the_one_get_by_natural_key_answers_in_one_query(user, other_user):
    assert jwt_settings.JWT_GET_USER_BY_NATURAL_KEY_HANDLER is tokens.get_user_by_natural_key
    for someone in (user, other_user):
        expected = get_user_model()._default_manager.get_by_natural_key(someone.username)
        with CaptureQueriesContext(connection) as queries:
            found = tokens.get_user_by_natural_key(someone.username)
        assert len(queries) == 1 and type(found) is type(expected) and fields(found) == fields(expected)
        assert found._state.db == "default" and not found._state.adding
    for unknown in ("nobody", "", user.username.upper(), f"{user.username}%", f"{user.username} "):
        assert tokens.get_user_by_natural_key(unknown) is None


def test_a_request_with_a_token_finds_its_user(api, user):
    assert api.execute("{ me { username } }", user=user) == {"data": {"me": {"username": user.username}}}
    token = get_token(user)
    get_user_model().objects.filter(pk=user.pk).update(username="renamed")  # the token names the old one
    assert "unknown user" in api.error("{ me { username } }", token=token)["message"]


def test_a_home_is_read_in_one_query_with_its_owner(user, other_user):
    expected = Home.objects.get(owner=user)
    with CaptureQueriesContext(connection) as queries:
        home = Home.of(user)
        assert home.owner is user  # no query for it
    assert len(queries) == 1 and fields(home) == fields(expected)
    assert Home.of(other_user).pk == other_user.pk


def test_a_user_without_a_home_gets_one(user):
    Home.objects.filter(owner=user).delete()
    home = Home.of(user)
    assert Home.objects.filter(owner=user).count() == 1 and home.pk == user.pk


def test_a_placeholder_the_queryset_changes_is_refused_clearly(user):
    # icontains wraps the value in % signs: the compiled text could not take the value.
    wrapped = CompiledQuery(lambda name: get_user_model().objects.filter(username__icontains=name), ("x",))
    with pytest.raises(RuntimeError, match="parameters"):
        wrapped.run(("a",), "default")


def test_statements_sent_before_take_no_parameters(user):
    users = CompiledQuery(lambda name: get_user_model().objects.filter(username=name), ("x",))
    with pytest.raises(ValueError, match="no '%'"):
        users.run((user.username,), "default", before="SELECT '100%'")
    assert users.run((user.username,), "default", before="SELECT 1") == [user]
