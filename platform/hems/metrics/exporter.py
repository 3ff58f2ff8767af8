"""A process without a web server (the Celery worker, the ingest) serves its group's
metrics on an address of its own, with the same access rules as ``/metrics``."""

from __future__ import annotations

import logging
import socket
import threading
from wsgiref.simple_server import WSGIRequestHandler, make_server

from prometheus_client.exposition import ThreadingWSGIServer

from hems.metrics import access, exposition

logger = logging.getLogger("hems.metrics")


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # a scrape every 15 s is not worth a log line
        pass


def app(environ, start_response):
    """The WSGI application: any path answers the metrics (as prometheus-client's own)."""
    reason = access.refusal(environ.get("REMOTE_ADDR"), environ.get("HTTP_AUTHORIZATION"))
    if reason is not access.ALLOWED:
        response = exposition.refused(reason)
        start_response(f"{response.status_code} {response.reason_phrase}", list(response.items()))
        return [response.content]
    if environ["REQUEST_METHOD"] not in ("GET", "HEAD"):
        start_response("405 Method Not Allowed", [("Allow", "GET, HEAD")])
        return [b""]
    body, content_type = exposition.render(environ.get("HTTP_ACCEPT"))
    start_response("200 OK", [("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def parse_address(address: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9810`` for IPv6) as (host, port)."""
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"a metrics address is host:port, not {address!r}")
    return host.strip("[]"), int(port)


def start_exporter(address: str):
    """Serve this process group's metrics on ``address`` (``host:port``) from a daemon
    thread; nothing when ``address`` is empty. A port already taken is logged, not raised:
    the worker's job is the tick, not its figures. Returns the server, or None."""
    if not address:
        return None
    host, port = parse_address(address)

    class Server(ThreadingWSGIServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    try:
        server = make_server(host, port, app, Server, handler_class=QuietHandler)
    except OSError as exc:
        logger.error("metrics not served on %s: %s", address, exc)
        return None
    threading.Thread(target=server.serve_forever, name="hems-metrics", daemon=True).start()
    logger.info("metrics served on http://%s/metrics", address)
    return server
