"""HTTP under the ASGI server (hems.asgi, hems.http_threads): a request for a sync view
runs whole, middleware and view and Django's request signals, on one thread of a fixed
pool; one for an async view (the SSE subscriptions) goes to Django's ASGI handler."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.signals import request_finished, request_started
from django.test import override_settings

from hems.asgi import application
from hems.http_threads import is_async_view, path_info


def http(path: str, method: str = "GET", body: bytes = b"", client: str = "127.0.0.1") -> tuple[int, bytes]:
    """One request through hems's ASGI application, as uvicorn makes it, from ``client``."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json")],
        "client": (client, 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip

    async def run():
        communicator = ApplicationCommunicator(application, scope)
        await communicator.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await communicator.receive_output(10)
        chunks = []
        while True:
            message = await communicator.receive_output(10)
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                await communicator.wait(10)  # the request's end too: the response closed after its last byte
                return start["status"], b"".join(chunks)

    return asyncio.run(run())


@pytest.fixture
def signal_threads():
    """The names of the threads Django's request_started and request_finished ran on."""
    seen: dict[str, list[str]] = {"started": [], "finished": []}

    def started(**kwargs):
        seen["started"].append(threading.current_thread().name)

    def finished(**kwargs):
        seen["finished"].append(threading.current_thread().name)

    request_started.connect(started)
    request_finished.connect(finished)
    try:
        yield seen
    finally:
        request_started.disconnect(started)
        request_finished.disconnect(finished)


@override_settings(ALLOWED_HOSTS=["127.0.0.1"])
def test_a_sync_view_runs_whole_on_one_thread_of_the_pool_and_finishes(signal_threads):
    status, _ = http("/no-such-page/")
    assert status == 404  # Django's answer, middleware and all
    # Both signals ran, on the same thread of a2wsgi's pool: the response was closed, so
    # the request's database connection went back (request_finished), and nothing of
    # the request moved between threads on the way.
    assert signal_threads["started"] == signal_threads["finished"]
    assert len(signal_threads["started"]) == 1 and signal_threads["started"][0].startswith("WSGI")


@override_settings(ALLOWED_HOSTS=["127.0.0.1"])
def test_an_async_view_goes_to_djangos_asgi_handler(signal_threads):
    status, body = http("/graphql/stream", method="POST", body=b"{}")
    assert status == 401 and b"UNAUTHENTICATED" in body  # the SSE view's own answer
    assert signal_threads["started"] and not any(name.startswith("WSGI") for name in signal_threads["started"])


@override_settings(ALLOWED_HOSTS=["127.0.0.1"], HEMS_TRUSTED_PROXIES=0)
@pytest.mark.parametrize(("client", "status"), [("127.0.0.1", 200), ("203.0.113.9", 403)])
def test_the_peer_address_reaches_the_view_through_the_pool(client, status):
    # The login throttle and /metrics's allow-list read REMOTE_ADDR: the thread pool's
    # WSGI environ must carry the ASGI server's peer, as Django's ASGI handler did.
    assert http("/metrics", client=client)[0] == status


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/graphql/stream", True), ("/graphql/", False), ("/admin/", False), ("/dashboard/", False), ("/nope", False)],
)
def test_which_views_are_async(path, expected):
    assert is_async_view(path) is expected


def test_the_path_is_read_below_the_mount_point():
    assert path_info({"path": "/hems/graphql/stream", "root_path": "/hems"}) == "/graphql/stream"
    assert path_info({"path": "/graphql/", "root_path": ""}) == "/graphql/"
    assert path_info({"path": "/graphql/"}) == "/graphql/"
