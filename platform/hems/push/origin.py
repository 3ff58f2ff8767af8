"""Which pages may open a WebSocket to hems: its own hosts' pages, and non-browser clients."""

from __future__ import annotations

from channels.security.websocket import OriginValidator
from django.conf import settings


class BrowserOriginValidator(OriginValidator):
    """A browser always sends ``Origin``: a page of another site (one not in ALLOWED_HOSTS)
    is refused before the handshake, as Channels' AllowedHostsOriginValidator does. A
    connection without ``Origin`` is not a browser's (a script, a device): it is let
    through, since a subscription is authorized by its token only, never a cookie."""

    def valid_origin(self, parsed_origin):
        return parsed_origin is None or self.validate_origin(parsed_origin)


def origin_validator(application):
    allowed = list(settings.ALLOWED_HOSTS)
    if settings.DEBUG and not allowed:
        allowed = [".localhost", "127.0.0.1", "[::1]"]  # Django's own default in DEBUG
    return BrowserOriginValidator(application, allowed)
