"""Login throttling, by django-axes: who is asking, and the answer once they are locked out.

Axes counts failed ``authenticate()`` calls per account and per address (its database
handler, so the admin shows the attempts and ``manage.py axes_reset`` lifts a lock);
these are the hooks its settings name.
"""

from __future__ import annotations

import json
import math

from django.conf import settings
from django.http import HttpResponse

from hems.api.errors import TOO_MANY_ATTEMPTS, too_many_attempts

ENDPOINT = "/graphql/"


def client_ip(request) -> str | None:
    """The caller's address: REMOTE_ADDR, or the address the outermost of
    ``HEMS_TRUSTED_PROXIES`` proxies saw, from X-Forwarded-For (a client can prepend
    anything to that header, so only the entries the proxies appended are believed)."""
    proxies = settings.HEMS_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-min(proxies, len(hops))]
    return request.META.get("REMOTE_ADDR")


def username(request, credentials) -> str | None:
    """The username axes records, cut to its column's width (a longer one is just a wrong one)."""
    value = (credentials or {}).get("username")
    return None if value is None else str(value)[:255]


def retry_after_seconds() -> int:
    return math.ceil(settings.AXES_COOLOFF_TIME.total_seconds())


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out caller gets: on the API, the GraphQL answer with the
    TOO_MANY_ATTEMPTS error the login mutation raised; elsewhere (the admin) a plain page."""
    retry_after = retry_after_seconds()
    if request.path == ENDPOINT:
        if original_response is not None and TOO_MANY_ATTEMPTS.encode() in original_response.content:
            response = original_response
        else:
            error = too_many_attempts()
            body = {"errors": [{"message": error.message, "extensions": error.extensions}], "data": None}
            response = HttpResponse(json.dumps(body), content_type="application/json")
        response.status_code = 429
    else:
        minutes = max(1, round(retry_after / 60))
        response = HttpResponse(
            f"Too many failed login attempts. Try again in {minutes} minutes.", status=429, content_type="text/plain"
        )
    response["Retry-After"] = str(retry_after)
    return response


def locked_out(request) -> bool:
    """Whether axes refused this request's login attempt (set by its backend or handler)."""
    return bool(getattr(request, "axes_locked_out", False))
