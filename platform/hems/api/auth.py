"""Who is calling: JSON Web Tokens only, never the session cookie."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.models import AnonymousUser
from graphql_jwt.exceptions import JSONWebTokenError
from graphql_jwt.shortcuts import get_user_by_token

from hems.api.errors import unauthenticated

PREFIX = "Bearer"


def authenticate(request) -> None:
    """Set ``request.user`` from ``Authorization: Bearer <token>``, or leave it anonymous
    with the reason in ``request.auth_error``.

    The session is ignored on purpose: the API takes no cookies, so a logged-in admin's
    browser cannot be made to call it (the endpoint is exempt from CSRF).
    """
    request.user = AnonymousUser()
    request.auth_error = None
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if not header:
        return
    prefix, _, token = header.partition(" ")
    if prefix != PREFIX or not token.strip():
        request.auth_error = "The Authorization header must be 'Bearer <token>'."
        return
    try:
        user = get_user_by_token(token.strip(), request)
    except JSONWebTokenError as exc:
        request.auth_error = f"Invalid token: {exc}"
        return
    if user is None:
        request.auth_error = "Invalid token: unknown user."
        return
    request.user = user


def current_user(info):
    """The authenticated caller, or an UNAUTHENTICATED error."""
    request = info.context
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        raise unauthenticated(getattr(request, "auth_error", None) or unauthenticated().message)
    return user


def login_required(resolver):
    """Resolve only for an authenticated caller, passed as ``user``."""

    @wraps(resolver)
    def wrapper(root, info, *args, **kwargs):
        return resolver(root, info, *args, user=current_user(info), **kwargs)

    return wrapper
