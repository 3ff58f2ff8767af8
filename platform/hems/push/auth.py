"""Who subscribes: the API's access tokens, read by the API's own rules."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from channels.db import database_sync_to_async
from graphql_jwt.exceptions import JSONWebTokenError
from graphql_jwt.utils import get_payload, get_user_by_payload

from hems.api.auth import PREFIX
from hems.push.changes import Changes


class Unauthorized(Exception):
    """No token, a malformed header, or a token the API would refuse."""


@dataclass
class PushContext:
    """``info.context`` of a subscription: the caller, as ``request.user`` is for the API."""

    user: object
    expires_at: datetime
    changes: Changes = field(default_factory=Changes)
    auth_error: str | None = None


def _user_of(header: object):
    if not isinstance(header, str) or not header:
        raise Unauthorized("Send the access token: 'Authorization: Bearer <token>'.")
    prefix, _, token = header.partition(" ")
    if prefix != PREFIX or not token.strip():
        raise Unauthorized("The Authorization value must be 'Bearer <token>'.")
    try:
        # The API's path (hems.api.auth): hems.api.tokens.decode, an active user required.
        payload = get_payload(token.strip())
        user = get_user_by_payload(payload)
    except JSONWebTokenError as exc:
        raise Unauthorized(f"Invalid token: {exc}") from None
    if user is None:
        raise Unauthorized("Invalid token: unknown user.")
    return user, datetime.fromtimestamp(payload["exp"], UTC)


async def authenticate(header: object) -> PushContext:
    """The context for ``Authorization: Bearer <token>``, or :class:`Unauthorized`."""
    user, expires_at = await database_sync_to_async(_user_of)(header)
    return PushContext(user=user, expires_at=expires_at)
