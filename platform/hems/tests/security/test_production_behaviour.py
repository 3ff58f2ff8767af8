"""In-process checks of what the production settings switch on: no schema introspection
(but __typename), no GraphiQL, plain HTTP redirected, the health check exempt."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    settings.HEMS_GRAPHIQL = False
    settings.HEMS_GRAPHQL_INTROSPECTION = False
    return settings


@pytest.mark.parametrize("query", ["{ __schema { types { name } } }", '{ __type(name: "Me") { name } }'])
def test_introspection_is_refused(api, user, production, query):
    assert api.error(query, user=user)["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_typename_still_works_for_clients_that_add_it(api, user, production):
    assert api.data("{ __typename me { __typename username } }", user=user)["me"]["__typename"] == "Me"


def test_graphiql_is_not_served(client, production):
    response = client.get("/graphql/", HTTP_ACCEPT="text/html")
    # A short page saying how to turn it on; no GraphiQL script.
    assert response.status_code == 405 and b"<script" not in response.content.lower()
    assert b"HEMS_GRAPHIQL=true" in response.content


def test_plain_http_is_redirected_behind_tls_and_the_health_check_is_not(client, settings, api, user):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 31536000
    plain = client.post("/graphql/", "{}", content_type="application/json")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    proxied = api.post("{ me { username } }", user=user, HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200 and proxied.json()["data"]["me"]["username"] == "alice"
    assert "max-age=31536000" in proxied["Strict-Transport-Security"]
    assert client.get("/healthz").status_code != 301
