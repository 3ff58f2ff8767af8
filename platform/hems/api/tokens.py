"""How access tokens are read: django-graphql-jwt's checks, and an expiry required.

PyJWT checks ``exp`` only when a token has one; a token minted without it (by anyone who
ever held the key) would never expire. Every token hems issues has it, so none without is
accepted.
"""

from __future__ import annotations

import jwt
from django.contrib.auth import get_user_model
from django.db import router
from graphql_jwt.settings import jwt_settings

from hems.compiled import CompiledQuery


def decode(token: str, context=None) -> dict:
    return jwt.decode(
        token,
        jwt_settings.JWT_PUBLIC_KEY or jwt_settings.JWT_SECRET_KEY,
        options={
            "verify_exp": True,
            "verify_aud": jwt_settings.JWT_AUDIENCE is not None,
            "verify_signature": True,
            "require": ["exp", "origIat"],
        },
        leeway=jwt_settings.JWT_LEEWAY,
        audience=jwt_settings.JWT_AUDIENCE,
        issuer=jwt_settings.JWT_ISSUER,
        algorithms=[jwt_settings.JWT_ALGORITHM],  # one algorithm: no "none", no switching
    )


def get_refresh_token(refresh_token_model, token, context=None):
    """A refresh token that still renews: not revoked, and its user active.

    Deactivating a user revokes their refresh tokens (``hems.devices.signals``); this
    also holds when ``is_active`` was switched off without a save (``QuerySet.update``).
    """
    return refresh_token_model.objects.select_related("user").get(
        token=token, revoked__isnull=True, user__is_active=True
    )


def _by_username(username: str):
    user_model = get_user_model()
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username})


USERS = CompiledQuery(_by_username, ("\x00username",))  # never a username: it holds the place while compiling


def get_user_by_natural_key(username: str):
    """The token's user, or None: what django-graphql-jwt's own handler answers
    (``get_by_natural_key``), in a query compiled once, as every request asks it."""
    users = USERS.run((username,), router.db_for_read(get_user_model()))
    return users[0] if users else None
