"""GraphiQL in a real browser (Debian's Chromium through Playwright), offline: the page
and its scripts come from hems itself, `loginUser` puts its token in the Headers tab,
and `allDevices` then answers with the demo's devices. Saves the README's screenshot."""

from __future__ import annotations

import json
import os

import pytest
from django.core.management import call_command
from django.utils import timezone

from hems.plugins import registry
from hems.simulation.tick import run_tick
from hems.tests.browser.conftest import SCREENSHOTS


@pytest.fixture
def demo_home(transactional_db):
    """The demo user of `bin/hems migrate` (GraphiQL's default query signs in as it),
    ticked once so the figures are not all zero."""
    with open(os.devnull, "w") as quiet:
        call_command("demo", stdout=quiet)
    run_tick(timezone.now())


@pytest.fixture
def graphiql(demo_home, asgi_server, browser_page, settings):
    settings.HEMS_GRAPHIQL = True
    settings.HEMS_GRAPHQL_INTROSPECTION = True
    browser_page.page.goto(f"{asgi_server.url}/graphql/")
    return browser_page


def editor_text(page, selector: str) -> str:
    return page.eval_on_selector(selector, "element => element.CodeMirror.getValue()")


def run_operation(page, name: str) -> dict:
    """Press ▶, pick the operation by name, and return the answer once it has come."""
    before = editor_text(page, ".graphiql-response .CodeMirror")
    page.locator(".graphiql-execute-button").click()
    page.get_by_role("menuitem", name=name).click()
    page.wait_for_function(
        "before => { const text = document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue();"
        " return text && text !== before; }",
        arg=before,
    )
    return json.loads(editor_text(page, ".graphiql-response .CodeMirror"))


def test_graphiql_runs_login_then_all_devices_with_the_token_offline(graphiql):
    page = graphiql.page
    page.locator(".graphiql-container").wait_for()
    headers = ".graphiql-editor-tool .CodeMirror >> nth=1"
    assert json.loads(editor_text(page, headers)) == {"Authorization": "Bearer "}
    page.fill("#hems-token-input", "Bearer pasted-token")  # the "paste a token" helper
    page.click("#hems-token button")
    page.wait_for_function(
        "() => document.querySelectorAll('.graphiql-editor-tool .CodeMirror')[1].CodeMirror.getValue()"
        ".includes('pasted-token')"
    )
    assert json.loads(editor_text(page, headers)) == {"Authorization": "Bearer pasted-token"}

    login = run_operation(page, "Login")
    token = login["data"]["loginUser"]["token"]
    page.wait_for_function(
        "token => document.querySelectorAll('.graphiql-editor-tool .CodeMirror')[1].CodeMirror.getValue()"
        ".includes(token)",
        arg=token,
    )
    assert json.loads(editor_text(page, headers)) == {"Authorization": f"Bearer {token}"}

    home = run_operation(page, "MyHome")
    assert "errors" not in home, home
    kinds = sum(1 for kind in registry().kinds.values() if kind.example)
    assert len(home["data"]["allDevices"]) == kinds
    assert home["data"]["energyStats"]["timestamp"]

    # The schema came through introspection: the docs explorer lists the root types.
    page.get_by_role("button", name="Show Documentation Explorer").click()
    page.get_by_text("Root Types").wait_for()
    page.get_by_role("button", name="Hide Documentation Explorer").click()

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "graphiql.png"))

    assert not graphiql.errors, graphiql.errors
    assert any(url.endswith("graphiql.min.js") for url in graphiql.requests), graphiql.requests
    assert not graphiql.outside_requests(), graphiql.outside_requests()
