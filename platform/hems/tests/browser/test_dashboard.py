"""The homeowner's dashboard and the admin's user page in a real browser: sign-in, the
chart drawn from the history, a tick pushed to the open page, nothing loaded from
elsewhere. Saves the README's screenshots (docs/images/)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from hems.energy.stats import stats_from_database
from hems.simulation.tick import run_tick
from hems.tests.browser.conftest import DAY, SCREENSHOTS, in_thread

DAY_URL = f"/dashboard/?view=day&date={DAY.date().isoformat()}"

# The figures the page draws, read back from ECharts itself (not just "a canvas exists").
SERIES = """() => {
  const chart = echarts.getInstanceByDom(document.querySelector('[data-part="energy"]'));
  return chart.getOption().series.map(s => ({name: s.name, type: s.type, data: s.data}));
}"""
FLOWS = """() => {
  const chart = echarts.getInstanceByDom(document.querySelector('[data-part="flows"]'));
  const series = chart.getOption().series;
  return series.length ? series[0].links : [];
}"""


def sign_in(browser_page, server, user, path=DAY_URL):
    page = browser_page.page
    page.goto(f"{server.url}{path}")
    assert "/dashboard/login/" in page.url  # the dashboard asks who you are first
    page.fill("#id_username", user.username)
    page.fill("#id_password", user.password_plain)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/dashboard/\?view=day.*"))
    page.locator("[data-hems-charts][data-drawn]").wait_for()
    return page


def watts(text: str) -> float:
    return float(re.sub(r"[^\d.\-]", "", text.replace("\u2212", "-")))


def test_the_dashboard_draws_the_day_and_follows_the_ticks_live(asgi_server, seeded_user, browser_page):
    page = sign_in(browser_page, asgi_server, seeded_user)
    assert page.locator("#period-title").inner_text() == "Sunday 21 June 2026"
    assert "Europe/Berlin" in page.locator(".zone").inner_text()

    series = {s["name"]: s for s in page.evaluate(SERIES)}
    production = series["Production"]["data"]
    assert len(production) == 24 and sum(production[8:14]) > 1  # kWh per hour, from the history
    assert sum(-v for v in series["Consumption"]["data"]) > 0  # drawn below the axis
    assert any(s["type"] == "line" for s in series.values())  # storage levels over the day
    links = page.evaluate(FLOWS)
    assert {link["source"] for link in links} >= {"Production"} and all(link["value"] > 0 for link in links)
    assert page.locator(".hems-flow-table tfoot").inner_text().strip()

    devices = page.locator("#device-rows tr")
    assert devices.count() == in_thread(seeded_user.devices.count)
    assert page.locator("#device-rows .badge.on").count() > 0

    page.locator('#live-state[data-state="live"]').wait_for(timeout=15000)  # subscribed through /graphql/
    page.evaluate("() => { window.notReloaded = true; }")
    page.set_viewport_size({"width": 1280, "height": page.evaluate("document.body.scrollHeight")})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)

    # A tick, run here as the worker would: its push moves the figures on the open page.
    instant = seeded_user.seeded_until + timedelta(minutes=1)
    in_thread(run_tick, instant)
    page.wait_for_function(
        "at => new Date(document.getElementById('stats-time').getAttribute('datetime')).getTime() === at",
        arg=instant.timestamp() * 1000,
        timeout=15000,
    )
    now = in_thread(stats_from_database, seeded_user.pk, instant)
    assert watts(page.locator("#fig-production").inner_text()) == round(now.current_production)
    assert watts(page.locator("#fig-grid").inner_text()) == round(now.net_grid_flow)
    assert page.evaluate("() => window.notReloaded === true")  # no reload happened

    assert not browser_page.errors, browser_page.errors
    assert any(url.startswith("ws://127.0.0.1") for url in browser_page.requests)
    assert not browser_page.outside_requests(), browser_page.outside_requests()


@pytest.fixture
def operator(transactional_db, django_user_model):
    return django_user_model.objects.create_superuser("operator", password="operator-password-1")


def test_the_admin_user_page_shows_the_home_day(asgi_server, seeded_user, operator, browser_page):
    page = browser_page.page
    page.goto(f"{asgi_server.url}/admin/login/?next=/admin/auth/user/{seeded_user.pk}/change/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "operator-password-1")
    page.click("input[type=submit]")
    page.locator("[data-hems-charts][data-drawn]").wait_for()
    series = {s["name"]: s for s in page.evaluate(SERIES)}
    assert set(series) >= {"Production", "Consumption", "Grid import", "Grid export"}
    assert page.get_by_role("link", name="View site").get_attribute("href") == "/dashboard/"
    figure = page.locator(".hems-admin-chart")
    figure.scroll_into_view_if_needed()
    figure.screenshot(path=str(SCREENSHOTS / "admin-user-chart.png"))
    assert not browser_page.errors, browser_page.errors
    assert not browser_page.outside_requests(), browser_page.outside_requests()


@pytest.mark.parametrize("width", [390])
def test_the_dashboard_fits_a_phone(asgi_server, seeded_user, browser_page, width):
    page = sign_in(browser_page, asgi_server, seeded_user)
    page.set_viewport_size({"width": width, "height": 800})
    page.wait_for_timeout(300)
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    assert not browser_page.outside_requests(), browser_page.outside_requests()


def test_a_refused_token_is_replaced_through_the_session(asgi_server, seeded_user, browser_page):
    """The stream refuses an expired token (4401); the page gets a fresh one from
    POST /dashboard/token/ (session and CSRF) and goes live without a reload."""
    from datetime import UTC, datetime

    from graphql_jwt.utils import jwt_encode, jwt_payload

    payload = jwt_payload(seeded_user)
    payload["exp"] = int(datetime.now(UTC).timestamp()) - 60
    expired = jwt_encode(payload)
    inits = []

    def first_init_expired(ws):
        """Between page and server: the first connection_init carries an expired token."""
        server = ws.connect_to_server()

        def to_server(message):
            if '"connection_init"' in message:
                inits.append(message)
                if len(inits) == 1:
                    message = re.sub(r"Bearer [^\"]+", f"Bearer {expired}", message)
            server.send(message)

        ws.on_message(to_server)

    page = browser_page.page
    page.route_web_socket(re.compile(r".*/graphql/$"), first_init_expired)
    sign_in(browser_page, asgi_server, seeded_user)
    page.locator('#live-state[data-state="live"]').wait_for(timeout=20000)
    assert len(inits) >= 2  # refused, then again
    assert any(url.endswith("/dashboard/token/") for url in browser_page.requests)
    assert page.evaluate("() => document.getElementById('stats-time').textContent")
    assert not browser_page.errors, browser_page.errors
