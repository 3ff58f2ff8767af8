"""Who may read the metrics: a client in ``HEMS_METRICS_ALLOW``'s networks and, when
``HEMS_METRICS_TOKEN`` is set, holding it as a bearer token (SECURITY.md, "Metrics")."""

from __future__ import annotations

import hmac
from ipaddress import ip_address

from django.conf import settings

ALLOWED = None
NOT_FROM_HERE = "not_from_here"  # 403: the address is outside the allowed networks
NO_TOKEN = "no_token"  # 401: the token is missing or wrong


def refusal(address: str | None, authorization: str | None) -> str | None:
    """Why a request from ``address`` with this ``Authorization`` header may not read the
    metrics, or None when it may."""
    try:
        client = ip_address((address or "").split("%")[0])  # an IPv6 zone ("fe80::1%eth0") is not part of it
    except ValueError:
        return NOT_FROM_HERE
    if client.version == 6 and client.ipv4_mapped:  # a dual-stack socket's IPv4 peer
        client = client.ipv4_mapped
    if not any(client in network for network in settings.HEMS_METRICS_ALLOW):
        return NOT_FROM_HERE
    token = settings.HEMS_METRICS_TOKEN
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            return NO_TOKEN
    return ALLOWED
