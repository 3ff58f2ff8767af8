"""Fixtures of the browser tests: Debian's Chromium driven by Playwright, hems served by
a real ASGI server (HTTP and the WebSocket push) over the test database, a seeded user,
and a page that records every request it makes.

``playwright install`` cannot download a browser here: the tests launch the system's
Chromium (``HEMS_CHROMIUM``, default /usr/bin/chromium; ``.ci/run`` installs it) and skip
without one.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("HEMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-gpu",
    "--disable-quic",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
SCREENSHOTS = Path(__file__).resolve().parents[4] / "docs" / "images"

# The seeded home's day: a June day in Berlin, recorded up to the early afternoon.
ZONE = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 6, 21, tzinfo=ZONE)
SEEDED_UNTIL = DAY + timedelta(hours=14)
PASSWORD = "browser-test-password-1"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.skipif(not shutil.which(CHROMIUM), reason=f"no Chromium at {CHROMIUM}"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def close_executor_connections() -> None:
    """Close the connections asgiref's shared executor thread still holds (views and the
    push consumer run there): called from a fresh thread so sync_to_async picks that
    executor, as the server's calls did."""
    import asyncio

    from asgiref.sync import sync_to_async
    from django.db import connections

    closer = threading.Thread(target=lambda: asyncio.run(sync_to_async(connections.close_all)()))
    closer.start()
    closer.join(timeout=10)


@dataclass
class LiveServer:
    url: str


@pytest.fixture
def asgi_server(transactional_db):
    """hems's ASGI application (hems.asgi: HTTP, static files, the /graphql/ WebSocket)
    under uvicorn in a thread of this process, so it sees the test database; its data
    must be committed, hence ``transactional_db``."""
    import uvicorn
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler
    from django.db import connections

    from hems.asgi import application

    # Requests run in worker threads: their connections close after each request, so
    # none outlives the test database.
    previous = connections.settings["default"]["CONN_MAX_AGE"]
    connections.settings["default"]["CONN_MAX_AGE"] = 0
    port = free_port()
    config = uvicorn.Config(
        ASGIStaticFilesHandler(application), host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="asgi-test-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the ASGI server did not start"
        time.sleep(0.05)
    yield LiveServer(url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(timeout=20)
    close_executor_connections()
    connections.settings["default"]["CONN_MAX_AGE"] = previous


@pytest.fixture
def seeded_user(transactional_db, django_user_model):
    """A homeowner (``seeded_user.password`` is theirs) with one device of every
    installed kind and the history of 21 June 2026 in Berlin up to 14:00, run by the
    real tick."""
    from hems.dashboard.tests.helpers import furnish, simulate
    from hems.devices.models import Home

    user = django_user_model.objects.create_user(username="hannah", password=PASSWORD)
    home = Home.of(user)
    home.time_zone = ZONE.key
    home.save()
    furnish(user)
    user.seeded_until = simulate(DAY, SEEDED_UNTIL, timedelta(minutes=30))
    user.password_plain = PASSWORD
    return user


@dataclass
class Page:
    """A Playwright page and every URL it asked for (HTTP requests and WebSockets)."""

    page: object
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside_requests(self) -> list[str]:
        """URLs whose host is not this machine (data: and blob: URLs never leave it)."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme not in ("data", "blob") and (urlsplit(url).hostname or "") not in LOCAL_HOSTS
        ]


def in_thread(function, *args, **kwargs):
    """Call ``function`` in a thread of its own and return its result: the way to touch
    the database (a tick, a query) while a browser is open. Playwright's sync API keeps
    an event loop running in the test's thread, so Django refuses the ORM there (and a
    connection opened under that loop would outlive the test database)."""
    from django.db import connections

    outcome = {}

    def run():
        try:
            outcome["value"] = function(*args, **kwargs)
        except BaseException as exc:  # re-raised in the caller
            outcome["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


@pytest.fixture
def chromium():
    """Chromium, for one test, closed before the test database is flushed. While it is
    open, reach the database through :func:`in_thread` only."""
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium):
    """A fresh browser context (no cookies) and page, 1280 px wide, recording requests
    and script errors."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, service_workers="block", locale="en-US")
    page = context.new_page()
    recorded = Page(page=page)
    page.on("request", lambda request: recorded.requests.append(request.url))
    page.on("websocket", lambda ws: recorded.requests.append(ws.url))
    page.on("pageerror", lambda error: recorded.errors.append(str(error)))
    yield recorded
    context.close()
