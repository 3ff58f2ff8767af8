"""GraphiQL at GET /graphql/: hems's own page and files when on, a page saying how to
turn it on when off (for a browser), a JSON error for an API client."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from graphql import get_introspection_query

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[4]
KEY = secrets.token_urlsafe(50)
BROWSER = {"HTTP_ACCEPT": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_graphiql_loads_nothing_from_elsewhere(client, settings):
    settings.HEMS_GRAPHIQL = True
    page = client.get("/graphql/", **BROWSER)
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert len(assets) == 6, assets  # react, react-dom, graphiql and hems's script; two stylesheets
    for url in assets:
        assert url.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"), url
        assert finders.find(url.split("/static/", 1)[1]), f"{url} is not among hems's static files"
    assert "//" not in "".join(assets)  # no other host, not even protocol-relative
    assert 'data-endpoint="/graphql/"' in html


def test_vendored_files_carry_their_licences():
    for folder in ("vendor/graphiql-3.9.0", "vendor/react-18.3.1", "vendor/react-dom-18.3.1"):
        licence = finders.find(f"{folder}/LICENSE")
        assert licence and "MIT License" in open(licence).read()


def test_when_off_a_browser_is_told_how_to_turn_it_on(client, settings):
    settings.HEMS_GRAPHIQL = False
    page = client.get("/graphql/", **BROWSER)
    assert page.status_code == 405 and page["Allow"] == "POST"
    assert page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "HEMS_GRAPHIQL=true" in text and 'href="/"' in text and "README" in text
    assert "<script" not in text


def test_when_off_an_api_client_keeps_a_json_error(client, settings):
    settings.HEMS_GRAPHIQL = False
    for accept in ("application/json", "*/*"):
        answer = client.get("/graphql/", {"query": "{ me { username } }"}, HTTP_ACCEPT=accept)
        assert answer.status_code == 405
        assert answer.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


def test_graphiqls_introspection_query_passes_the_limits(api, settings):
    """GraphiQL asks for the schema with the standard introspection query (seven levels
    of `ofType`); refused for depth, its docs and completion would stay empty."""
    settings.HEMS_GRAPHQL_INTROSPECTION = True
    query = get_introspection_query(
        descriptions=True, schema_description=True, input_value_deprecation=True, directive_is_repeatable=True
    )
    schema = api.data(query)["__schema"]
    assert {t["name"] for t in schema["types"]} >= {"Query", "Mutation", "Device", "EnergyStats"}


def test_nested_lists_in_introspection_still_count_for_depth(api):
    deep = "{ __schema { types { fields { type { fields { type { fields { type { fields { name } } } } } } } } } }"
    assert api.error(deep)["extensions"]["code"] == "QUERY_TOO_COMPLEX"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("environment", "on"),
    [
        ({}, True),  # embedded: someone trying hems on their own machine
        ({"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/hems", "SECRET_KEY": KEY}, False),  # deployment
        (
            {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/hems", "SECRET_KEY": KEY, "HEMS_GRAPHIQL": "1"},
            True,
        ),
    ],
    ids=["embedded", "deployment", "asked for"],
)
def test_graphiql_is_on_where_someone_tries_hems_and_off_in_a_deployment(tmp_path, environment, on):
    show = "from django.conf import settings as s; print(s.HEMS_GRAPHIQL, s.HEMS_GRAPHQL_INTROSPECTION)"
    env = {"PATH": os.environ.get("PATH", ""), "HEMS_DATA_DIR": str(tmp_path), **environment}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", show],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == [str(on), str(on)]


@pytest.mark.parametrize("on", [True, False])
def test_the_demo_log_line_says_what_a_browser_finds_at_graphql(settings, on):
    settings.HEMS_GRAPHIQL = on
    out = StringIO()
    call_command("demo", stdout=out)
    assert "Sign in to the dashboard at / with it" in out.getvalue()
    if on:
        assert "GraphiQL at /graphql/ runs its loginUser mutation" in out.getvalue()
    else:
        assert "POST the loginUser mutation to /graphql/ (HEMS_GRAPHIQL=true serves GraphiQL)" in out.getvalue()
