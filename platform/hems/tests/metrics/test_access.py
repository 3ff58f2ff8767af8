"""Who may read the metrics: /metrics on the web process and the worker's own exporter."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from ipaddress import ip_network

import pytest

from hems.metrics.exporter import start_exporter
from hems.tests.metrics.samples import parse

pytestmark = pytest.mark.django_db

LOOPBACK = [ip_network("127.0.0.0/8"), ip_network("::1/128")]
TOKEN = "a-long-random-scrape-token-0123456789"


@pytest.fixture(autouse=True)
def loopback_only(settings):
    settings.HEMS_METRICS_ALLOW = LOOPBACK
    settings.HEMS_METRICS_TOKEN = ""
    settings.HEMS_TRUSTED_PROXIES = 0


def test_loopback_reads_the_metrics_in_prometheus_format(client):
    response = client.get("/metrics")  # the test client's REMOTE_ADDR is 127.0.0.1
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples = parse(response.content.decode())
    assert ("hems_tick_shards_total", frozenset({("outcome", "duplicate")})) in samples


def test_a_scraper_asking_for_openmetrics_gets_it(client):
    response = client.get("/metrics", HTTP_ACCEPT="application/openmetrics-text; version=1.0.0")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/openmetrics-text")
    assert response.content.rstrip().endswith(b"# EOF")


@pytest.mark.parametrize(
    "address, forwarded", [("203.0.113.9", ""), ("203.0.113.9", "127.0.0.1"), ("10.1.2.3", "")], ids=str
)
def test_other_addresses_are_refused_whatever_they_claim(client, address, forwarded):
    headers = {"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {}
    response = client.get("/metrics", REMOTE_ADDR=address, **headers)
    assert response.status_code == 403
    assert b"hems_" not in response.content


def test_behind_a_proxy_on_this_host_the_client_is_the_one_judged(client, settings):
    # nginx on loopback forwards everything: its own address must not open /metrics to the world.
    settings.HEMS_TRUSTED_PROXIES = 1
    outside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert outside.status_code == 403
    inside = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert inside.status_code == 200


def test_allowed_networks_are_the_setting(client, settings):
    settings.HEMS_METRICS_ALLOW = [ip_network("10.0.0.0/8")]
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::ffff:10.1.2.3").status_code == 200  # a dual-stack socket
    assert client.get("/metrics").status_code == 403  # loopback too is only what is listed
    assert client.get("/metrics", REMOTE_ADDR="not an address").status_code == 403


def test_with_a_token_set_it_is_required_as_well(client, settings):
    settings.HEMS_METRICS_TOKEN = TOKEN
    missing = client.get("/metrics")
    assert missing.status_code == 401 and missing["WWW-Authenticate"].startswith("Bearer")
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 200
    # The token does not open the metrics to an address outside the networks.
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 403


def test_prometheus_scrapes_plain_http_even_when_https_is_enforced(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    assert client.get("/metrics").status_code == 200
    assert client.post("/graphql/", "{}", content_type="application/json").status_code == 301


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_the_worker_exporter_applies_the_same_rules(settings):
    port = free_port()
    server = start_exporter(f"127.0.0.1:{port}")
    try:
        status, body = fetch(f"http://127.0.0.1:{port}/metrics")
        assert status == 200 and "hems_tick_shards_total" in body.decode()
        settings.HEMS_METRICS_TOKEN = TOKEN
        assert fetch(f"http://127.0.0.1:{port}/metrics")[0] == 401
        assert fetch(f"http://127.0.0.1:{port}/metrics", TOKEN)[0] == 200
        settings.HEMS_METRICS_ALLOW = [ip_network("10.0.0.0/8")]
        assert fetch(f"http://127.0.0.1:{port}/metrics", TOKEN)[0] == 403
    finally:
        server.shutdown()
        server.server_close()


def test_a_taken_port_leaves_the_worker_running_without_an_exporter(caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        assert start_exporter(address) is None
    assert f"metrics not served on {address}" in caplog.text
    assert start_exporter("") is None  # not asked for
    with pytest.raises(ValueError, match="host:port"):
        start_exporter("9810")
