"""The metrics in Prometheus's text format: every process of this group's (the
multiprocess directory's files, summed) or, without one, this process's own."""

from __future__ import annotations

import os

from django.http import HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess
from prometheus_client.exposition import choose_encoder

from hems.metrics import access

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"  # read by prometheus_client itself when it is imported


def registry():
    """The registry to expose: the multiprocess directory's when this process has one
    (``bin/hems`` sets it per process group), else the process's default registry."""
    if os.environ.get(MULTIPROC_DIR):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
        return collected
    return REGISTRY


def render(accept: str | None) -> tuple[bytes, str]:
    """The exposition (OpenMetrics when the scraper asks for it) and its content type."""
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry()), content_type


def refused(reason: str) -> HttpResponse:
    if reason == access.NO_TOKEN:
        response = HttpResponse("A bearer token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="hems metrics"'
        return response
    return HttpResponse("Metrics are not served to this address.\n", status=403, content_type="text/plain")


def metrics_view(request):
    """``GET /metrics`` on the web process, for Prometheus."""
    from hems.api.throttle import client_ip  # the address behind HEMS_TRUSTED_PROXIES, as for logins

    reason = access.refusal(client_ip(request), request.headers.get("Authorization"))
    if reason is not access.ALLOWED:
        return refused(reason)
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    body, content_type = render(request.headers.get("Accept"))
    return HttpResponse(body, content_type=content_type)
