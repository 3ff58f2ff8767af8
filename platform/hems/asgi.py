"""ASGI entry point: HTTP (the API, admin, static files) and the WebSocket push.

Served by gunicorn with uvicorn workers (`bin/hems web`). HTTP goes to Django, middleware
and all: a sync view through Django's WSGI handler on a pool of threads, an async one
(SSE) through its ASGI handler (hems.http_threads); WebSockets to /graphql/ speak
graphql-transport-ws (hems.push.graphql_ws); the lifespan runs the embedded mode's ticker
(hems.push.lifespan).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hems.settings")
django_application = get_asgi_application()  # sets Django up before anything imports models

from django.conf import settings  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

from hems.http_threads import HTTPRouter  # noqa: E402

http = HTTPRouter(django_application, get_wsgi_application(), threads=settings.HEMS_WEB_THREADS)

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import WebsocketDenier  # noqa: E402
from django.urls import path, re_path  # noqa: E402

from hems.push.graphql_ws import GraphQLWSConsumer  # noqa: E402
from hems.push.lifespan import lifespan  # noqa: E402
from hems.push.origin import origin_validator  # noqa: E402

websocket_routes = URLRouter(
    [
        path("graphql/", GraphQLWSConsumer.as_asgi()),
        re_path(r"", WebsocketDenier.as_asgi()),  # any other path: refused, not an error
    ]
)

application = ProtocolTypeRouter({"http": http, "websocket": origin_validator(websocket_routes), "lifespan": lifespan})
