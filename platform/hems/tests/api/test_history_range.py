"""energyHistory at the edges of time: instants outside the range history answers for are
bad input naming that range, never an internal error; its very edges answer, in any zone."""

from __future__ import annotations

import pytest

from hems.devices.models import Home
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

HOME = """
query H($start: DateTime!, $end: DateTime!, $interval: Interval!) {
  energyHistory(start: $start, end: $end, interval: $interval) { start productionWh }
}"""
DEVICE = """
query D($id: ID!, $start: DateTime!, $end: DateTime!, $interval: Interval!) {
  device(id: $id) { energyHistory(start: $start, end: $end, interval: $interval) { start energyWh } }
}"""
INTERVALS = ["HOUR", "DAY", "WEEK", "MONTH"]
ALLOWED = "between 1970-01-01T00:00:00Z and 2100-01-01T00:00:00Z"
# Local zones as far from UTC as they come, both ways, where a bucket floor or step
# would leave Python's or PostgreSQL's calendar first.
ZONES = ["Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]


OUT_OF_RANGE = [
    ("0001-01-01T00:00:00Z", "2026-01-01T00:00:00Z", "start"),
    ("2026-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "end"),
    ("0001-01-01T00:00:00+14:00", "0001-01-02T00:00:00+14:00", "start"),
    ("9999-12-31T00:00:00-12:00", "9999-12-31T23:59:59-12:00", "start"),
    ("1969-12-31T23:59:59Z", "1970-01-01T01:00:00Z", "start"),
    ("2099-12-31T23:00:00Z", "2100-01-01T00:00:01Z", "end"),
]
EDGES = [("1970-01-01T00:00:00Z", "1970-01-01T01:00:00Z"), ("2099-12-31T23:00:00Z", "2100-01-01T00:00:00Z")]


def asker(api, user, query):
    """Ask ``query`` (the home's or a device's history) as ``user``; returns the buckets or errors."""
    extra = {"id": str(make_device(user, kind_keys()[0]).pk)} if query == DEVICE else {}

    def ask(start, end, interval):
        result = api.execute(query, {"start": start, "end": end, "interval": interval, **extra}, user=user)
        if result.get("errors"):
            return None, result["errors"][0]
        data = result["data"]
        return (data["energyHistory"] if query == HOME else data["device"]["energyHistory"]), None

    return ask


@pytest.mark.parametrize("query", [HOME, DEVICE], ids=["home", "device"])
def test_instants_out_of_range_are_bad_input_naming_the_range(api, user, query):
    Home.objects.filter(owner=user).update(time_zone="Pacific/Kiritimati")
    ask = asker(api, user, query)
    for interval in INTERVALS:
        for start, end, field in OUT_OF_RANGE:
            _, error = ask(start, end, interval)
            assert error is not None and error["extensions"]["code"] == "BAD_USER_INPUT", (start, end, interval, error)
            assert error["extensions"]["field"] == field and ALLOWED in error["message"], error


@pytest.mark.parametrize("query", [HOME, DEVICE], ids=["home", "device"])
def test_the_edges_of_the_range_answer_in_any_zone(api, user, query):
    ask = asker(api, user, query)
    for zone in ZONES:
        Home.objects.filter(owner=user).update(time_zone=zone)
        for interval in INTERVALS:
            for start, end in EDGES:
                buckets, error = ask(start, end, interval)
                assert error is None, (zone, interval, start, error)
                assert len(buckets) in (1, 2)
