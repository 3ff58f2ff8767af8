"""The dashboard's pages: sign-in with the API's accounts, the period shown, the
chart's data, and the stream token."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from freezegun import freeze_time
from graphql_jwt.shortcuts import get_user_by_token

from hems.dashboard.tests.helpers import furnish, simulate
from hems.devices.models import Home
from hems.simulation import history

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse staple 42"  # the ``user`` fixture's
BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 6, 21, tzinfo=BERLIN)


def embedded(response, element_id: str) -> dict:
    """The JSON a page embeds with json_script."""
    html = response.content.decode()
    start = html.index(f'id="{element_id}"')
    start = html.index(">", start) + 1
    return json.loads(html[start : html.index("</script>", start)])


@pytest.fixture
def signed_in(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def june_day(user):
    """``user``'s home, with the history of 21 June 2026 (Berlin) up to 18:00."""
    furnish(user)
    simulate(DAY, DAY + timedelta(hours=18), timedelta(hours=1))
    return user


def test_signing_in_with_the_api_account_opens_the_dashboard(client, user):
    assert client.get("/").url == "/dashboard/"
    response = client.get("/dashboard/")
    assert response.status_code == 302 and response.url.startswith("/dashboard/login/")
    response = client.post("/dashboard/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 302 and response.url == "/dashboard/"
    page = client.get("/dashboard/")
    assert page.status_code == 200
    assert "no-store" in page["Cache-Control"]  # it carries an access token
    assert Home.of(user).time_zone in page.content.decode()


def test_a_wrong_password_signs_nobody_in(client, user):
    response = client.post("/dashboard/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200 and "Please enter a correct username and password" in response.content.decode()
    assert client.get("/dashboard/").status_code == 302


def test_dashboard_sign_in_is_throttled_like_every_login(client, user):
    with freeze_time("2026-06-21 12:00:00"):
        for _ in range(settings.AXES_FAILURE_LIMIT):
            client.post("/dashboard/login/", {"username": "alice", "password": "wrong"})
        response = client.post("/dashboard/login/", {"username": "alice", "password": PASSWORD})
    assert response.status_code == 429
    assert client.get("/dashboard/").status_code == 302  # not signed in


def test_logout_ends_the_session(signed_in):
    assert signed_in.get("/dashboard/").status_code == 200
    assert signed_in.post("/dashboard/logout/").status_code == 302
    assert signed_in.get("/dashboard/").status_code == 302


def test_the_page_embeds_a_token_of_the_signed_in_user(signed_in, user):
    live = embedded(signed_in.get("/dashboard/"), "live-data")
    assert get_user_by_token(live["token"]) == user  # what the API and the stream check
    assert live["tokenTtl"] == settings.GRAPHQL_JWT["JWT_EXPIRATION_DELTA"].total_seconds()


def test_the_token_endpoint_needs_the_session_and_the_csrf_token(user):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post("/dashboard/token/").status_code in (401, 403)
    browser.force_login(user)
    assert browser.post("/dashboard/token/").status_code == 403  # no CSRF token: another site's form
    page = browser.get("/dashboard/")
    csrf = page.content.decode().split('data-csrf="', 1)[1].split('"', 1)[0]
    response = browser.post("/dashboard/token/", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200
    assert get_user_by_token(response.json()["token"]) == user
    assert browser.get("/dashboard/token/").status_code == 405


def test_the_token_endpoint_refuses_anonymous_callers(client):
    response = client.post("/dashboard/token/")
    assert response.status_code == 401 and "token" not in response.json()


def test_the_day_chart_holds_the_history_in_the_home_zone(signed_in, june_day):
    with freeze_time("2026-06-21T16:05:00Z"):
        response = signed_in.get("/dashboard/data/", {"view": "day", "date": "2026-06-21"})
    chart = response.json()
    assert chart["zone"] == "Europe/Berlin" and chart["view"] == "day"
    energy = chart["energy"]
    assert energy["starts"][0] == "2026-06-21T00:00:00+02:00" and len(energy["starts"]) == 24
    assert energy["labels"][:2] == ["00:00", "01:00"]
    assert sum(energy["wh"]["production"]) > 0
    assert sum(energy["wh"]["consumption"]) > 0
    assert sum(energy["wh"]["production"][19:]) == 0  # nothing recorded after 18:00


def test_the_flows_shown_balance_with_the_chart(signed_in, june_day):
    with freeze_time("2026-06-21T16:05:00Z"):
        chart = signed_in.get("/dashboard/data/", {"view": "day", "date": "2026-06-21"}).json()
    totals = chart["flows"]["totals"]
    for name in ("production", "consumption", "storage_charge", "storage_discharge", "grid_import", "grid_export"):
        # The chart's completed hours are stored as ``real`` (7 significant digits).
        assert totals[name] == pytest.approx(sum(chart["energy"]["wh"][name]), rel=1e-6, abs=1e-6)
    by_source = {}
    for link in chart["flows"]["links"]:
        by_source[link["source"]] = by_source.get(link["source"], 0.0) + link["wh"]
    assert by_source["production"] == pytest.approx(totals["production"], abs=1e-6)


def test_storage_levels_over_the_day_end_at_the_level_now(signed_in, june_day, user):
    from hems.devices.models import Device

    with freeze_time("2026-06-21T16:05:00Z"):
        chart = signed_in.get("/dashboard/data/", {"view": "day", "date": "2026-06-21"}).json()
    storage = Device.objects.filter(owner=user, device_type="storage").select_related("state")
    assert {level["id"] for level in chart["levels"]} == {str(d.pk) for d in storage}
    for level in chart["levels"]:
        state = storage.get(pk=level["id"]).state
        # The 18:00 tick's span began at 17:00: the hour under way is 17:00, and its end level is the level now.
        assert state.hour_start.astimezone(BERLIN).hour == 17
        walked = [wh for wh in level["wh"] if wh is not None]
        assert len(walked) == 18
        assert walked[-1] == pytest.approx(state.level_wh)
        assert all(0.0 <= wh <= state.capacity_wh for wh in walked)
        assert level["wh"][18:] == [None] * 6
        assert level["estimated"] is False  # every hour recorded its level
    with freeze_time("2026-06-21T16:05:00Z"):
        page = signed_in.get("/dashboard/", {"view": "day", "date": "2026-06-21"}).content.decode()
    assert "Storage levels are as recorded at the end of each hour" in page and "are estimated" not in page


def test_week_and_month_views_step_through_the_calendar(signed_in, june_day):
    with freeze_time("2026-07-15T10:00:00Z"):
        week = signed_in.get("/dashboard/", {"view": "week", "date": "2026-06-21"})
        month = signed_in.get("/dashboard/data/", {"view": "month", "date": "2026-06-21"}).json()
    html = week.content.decode()
    assert "Week 25: 15 Jun to 21 Jun 2026" in html
    assert "?view=week&amp;date=2026-06-08" in html and "?view=week&amp;date=2026-06-22" in html
    chart = embedded(week, "chart-data")
    assert chart["energy"]["labels"] == ["Mon 15", "Tue 16", "Wed 17", "Thu 18", "Fri 19", "Sat 20", "Sun 21"]
    assert chart["energy"]["wh"]["production"][-1] > 0 and chart["levels"] == []
    assert len(month["energy"]["labels"]) == 30 and month["label"] == "June 2026"


def test_there_is_no_next_period_while_this_one_runs(signed_in, june_day):
    with freeze_time("2026-06-21T16:05:00Z"):
        html = signed_in.get("/dashboard/", {"view": "day", "date": "2026-06-21"}).content.decode()
    assert 'rel="prev"' in html and 'rel="next"' not in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"view": "year"}, "view must be one of day, week, month"),
        ({"date": "21/06/2026"}, "date must be a day as YYYY-MM-DD"),
        ({"date": "2026-06-22"}, "has not begun yet"),
    ],
)
def test_a_period_it_cannot_show_is_a_clear_error(signed_in, june_day, query, message):
    with freeze_time("2026-06-21T16:05:00Z"):
        data = signed_in.get("/dashboard/data/", query)
        page = signed_in.get("/dashboard/", query)
    assert data.status_code == 400 and message in data.json()["error"]
    assert page.status_code == 400 and message in page.content.decode()


def test_one_home_never_shows_another_homes_history(client, june_day, other_user):
    client.force_login(other_user)
    with freeze_time("2026-06-21T16:05:00Z"):
        chart = client.get("/dashboard/data/", {"view": "day", "date": "2026-06-21"}).json()
    assert not any(any(values) for values in chart["energy"]["wh"].values())
    assert chart["levels"] == [] and all(link["wh"] == 0 for link in chart["flows"]["links"])


def test_the_page_lists_every_device_with_status_and_power(signed_in, june_day, user):
    with freeze_time("2026-06-21T16:05:00Z"):
        live = embedded(signed_in.get("/dashboard/"), "live-data")
    names = {device["name"] for device in live["devices"]}
    assert names == set(user.devices.values_list("name", flat=True))
    assert all(device["status"] in ("ONLINE", "OFFLINE") and device["powerW"] >= 0 for device in live["devices"])
    assert live["energyStats"]["currentProduction"] > 0  # 18:00 in June


def test_the_admin_view_site_link_leads_to_the_dashboard(admin_client):
    assert 'href="/dashboard/"' in admin_client.get("/admin/").content.decode()


def test_the_admin_user_page_shows_the_home_day_chart(admin_client, june_day, user):
    with freeze_time("2026-06-21T16:05:00Z"):
        response = admin_client.get(f"/admin/auth/user/{user.pk}/change/")
    assert response.status_code == 200
    chart = embedded(response, "chart-data")
    assert chart["view"] == "day" and max(chart["energy"]["wh"]["production"]) > 0
    assert "vendor/echarts-5.6.0/echarts.min.js" in response.content.decode()


def test_levels_walk_back_through_each_hour_charge_and_discharge(user):
    """The arithmetic of the estimate, on a device history written by hand without
    levels (as hours recorded before the history kept them)."""
    from django.db import connection

    from hems.dashboard.periods import period
    from hems.dashboard.series import storage_levels
    from hems.tests.factories import make_device, storage_kind_keys

    device = make_device(user, storage_kind_keys()[0])
    capacity = device.state.capacity_wh
    history.ensure_partitions(date(2026, 6, 20), date(2026, 6, 21), history.DEVICE_TABLE)
    with connection.cursor() as cursor:  # 10:00 charged 1000 Wh, 11:00 discharged 400 Wh, 12:00 charged beyond full
        for hour, charge, discharge in ((10, 1000.0, 0.0), (11, 0.0, 400.0), (12, capacity, 0.0)):
            cursor.execute(
                "INSERT INTO hems_device_energy (device_id, hour_start, energy_wh, charge_wh, discharge_wh) "
                "VALUES (%s, %s, %s, %s, %s)",
                [device.pk, DAY + timedelta(hours=hour), charge + discharge, charge, discharge],
            )
    state = device.state
    state.hour_start, state.hour_charge_wh, state.hour_discharge_wh = DAY + timedelta(hours=13), 0.0, 500.0
    state.level_wh, state.simulated_at = capacity / 2, DAY + timedelta(hours=13, minutes=30)
    state.save()
    with freeze_time(DAY + timedelta(hours=13, minutes=31)):
        (level,) = storage_levels(user.pk, period("day", "2026-06-21", BERLIN, DAY + timedelta(hours=13, minutes=31)))
    now = capacity / 2
    assert level["wh"][13] == now  # the hour under way ends at the level now
    assert level["wh"][12] == now + 500.0  # before 13:00's 500 Wh discharge
    assert level["wh"][11] == 0.0  # 12:00 charged more than it could hold: clipped, not negative
    assert level["wh"][10] == 400.0
    assert level["wh"][:10] == [None] * 10  # before its first recorded hour: not drawn
    assert level["wh"][14:] == [None] * 10
    assert level["percent"][12] == pytest.approx((now + 500.0) / capacity * 100)
    assert level["estimated"] is True


def test_recorded_levels_are_drawn_as_recorded_and_only_older_hours_estimated(user):
    from django.db import connection

    from hems.dashboard.periods import period
    from hems.dashboard.series import chart
    from hems.tests.factories import make_device, storage_kind_keys

    device = make_device(user, storage_kind_keys()[0])
    history.ensure_partitions(date(2026, 6, 20), date(2026, 6, 21), history.DEVICE_TABLE)
    with connection.cursor() as cursor:  # 10:00 from before levels were kept; 11:00 and 12:00 with theirs
        for hour, charge, discharge, level in (
            (10, 1000.0, 0.0, None),
            (11, 0.0, 400.0, 3000.0),
            (12, 200.0, 0.0, 3100.0),
        ):
            cursor.execute(
                "INSERT INTO hems_device_energy (device_id, hour_start, energy_wh, charge_wh, discharge_wh, level_wh) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                [device.pk, DAY + timedelta(hours=hour), charge + discharge, charge, discharge, level],
            )
    state = device.state
    state.hour_start, state.hour_charge_wh, state.hour_discharge_wh = DAY + timedelta(hours=13), 0.0, 500.0
    state.level_wh, state.simulated_at = 2500.0, DAY + timedelta(hours=13, minutes=30)
    state.save()
    now = DAY + timedelta(hours=13, minutes=31)
    with freeze_time(now):
        drawn = chart(user.pk, period("day", "2026-06-21", BERLIN, now))
    (level,) = drawn["levels"]
    # 12:00 as recorded (walked back from now it would be 3000: losses are in the record, not in the flows)
    assert level["wh"][10:14] == [3400.0, 3000.0, 3100.0, 2500.0]  # 10:00: from 11:00's recorded level
    assert level["estimated"] is True and drawn["levels_estimated"] is True
    with connection.cursor() as cursor:
        cursor.execute("UPDATE hems_device_energy SET level_wh = 3400 WHERE device_id = %s", [device.pk])
    with freeze_time(now):
        drawn = chart(user.pk, period("day", "2026-06-21", BERLIN, now))
    assert drawn["levels"][0]["wh"][10:14] == [3400.0, 3400.0, 3400.0, 2500.0]
    assert drawn["levels_estimated"] is False


def test_a_device_set_offline_shows_why(signed_in, june_day, user):
    device = user.devices.order_by("pk").first()
    device.status = "offline"
    device.save()
    with freeze_time("2026-06-21T16:05:00Z"):
        live = embedded(signed_in.get("/dashboard/"), "live-data")
    (row,) = [d for d in live["devices"] if d["id"] == str(device.pk)]
    assert row["status"] == "OFFLINE" and row["statusReason"] == "set offline by the user" and row["powerW"] == 0
    assert all(d["statusReason"] is None for d in live["devices"] if d["status"] == "ONLINE")
