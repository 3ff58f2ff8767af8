"""HTTP under the ASGI server: sync views on a pool of threads, async ones on the loop.

hems serves HTTP and WebSockets from one ASGI server (``bin/hems web``: gunicorn with
uvicorn workers). Its HTTP views are sync (the GraphQL view, the admin, the dashboard),
and Django's ASGI handler runs a sync stack poorly: it wraps each of Django's own
middlewares in async mode, which moves each one's ``process_request`` and
``process_response`` to a thread and back (fifteen crossings a request, plus a thread
started and joined per request). That cost 4 ms of a 7 ms ``energyStats`` on a slow
two-core VM (BENCHMARKS.md, "The API over HTTP"). So a request for a sync view goes to
Django's WSGI handler instead, on a fixed pool of threads (a2wsgi, the maintained
WSGI-in-ASGI adapter: it streams bodies both ways and closes the response, so Django's
``request_finished`` runs): one crossing each way, as a threaded WSGI server would. A
request for an async view (the SSE subscriptions, ``hems.push.sse``) goes to Django's
ASGI handler, which runs it on the event loop.
"""

from __future__ import annotations

from a2wsgi import WSGIMiddleware
from asgiref.sync import iscoroutinefunction
from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.urls import Resolver404, get_resolver


def is_async_view(path_info: str) -> bool:
    """Whether ``path_info`` resolves to an async view (an unknown path does not)."""
    try:
        match = get_resolver().resolve(path_info)
    except Resolver404:
        return False
    return iscoroutinefunction(match.func)  # as Django itself tells them apart


class HTTPRouter:
    """An ASGI application for HTTP: each request to the handler its view suits."""

    def __init__(self, asgi: ASGIHandler, wsgi: WSGIHandler, threads: int):
        self.asgi = asgi
        # a2wsgi's threads run at most ``threads`` requests at once (each holds at most
        # one database connection): the rest wait on the loop, not in a thread.
        self.wsgi = WSGIMiddleware(wsgi, workers=threads)

    async def __call__(self, scope, receive, send) -> None:
        handler = self.asgi if is_async_view(path_info(scope)) else self.wsgi
        await handler(scope, receive, send)


def path_info(scope) -> str:
    """The request's path below the application's mount point (``root_path``), as
    Django's handlers compute it."""
    path, root = scope["path"], scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path
