"""energyStats from stored device states, and energyHistory's buckets."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time

from hems.devices.models import Device, DeviceState
from hems.plugins import registry
from hems.tests.factories import make_device

pytestmark = pytest.mark.django_db

STATS = """
{ energyStats {
    currentProduction currentConsumption
    currentStorage { totalCapacityWh currentLevelWh percentage }
    currentStorageFlow netGridFlow timestamp
} }
"""
HISTORY = """
query H($start: DateTime!, $end: DateTime!, $interval: Interval!) {
  energyHistory(start: $start, end: $end, interval: $interval) {
    start productionWh consumptionWh storageChargeWh storageDischargeWh gridImportWh gridExportWh
  }
}
"""


def kind_of(device_type: str, charging_is_consumption: bool = False) -> str:
    return next(
        key
        for key, kind in sorted(registry().kinds.items())
        if kind.device_type == device_type and kind.charging_is_consumption == charging_is_consumption
    )


def set_state(device, **state):
    DeviceState.objects.filter(pk=device.pk).update(**state)


@freeze_time("2026-06-21 12:00:00")
def test_a_user_with_no_devices_gets_zeros(api, user):
    stats = api.data(STATS, user=user)["energyStats"]
    assert stats == {
        "currentProduction": 0.0, "currentConsumption": 0.0,
        "currentStorage": {"totalCapacityWh": 0.0, "currentLevelWh": 0.0, "percentage": 0.0},
        "currentStorageFlow": 0.0, "netGridFlow": 0.0, "timestamp": "2026-06-21T12:00:00+00:00",
    }  # fmt: skip


def test_the_assessments_own_example(api, user):
    """Production 3500, consumption 4500, storage flow -500: the grid gives 500."""
    instant = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)
    producer = make_device(user, kind_of("production"))
    consumer = make_device(user, kind_of("consumption"))
    storage = make_device(user, kind_of("storage"), level_wh=5000)
    set_state(producer, power_w=3500, simulated_at=instant)
    set_state(consumer, power_w=4500, simulated_at=instant)
    set_state(storage, power_w=500, flow_w=-500, simulated_at=instant)
    stats = api.data(STATS, user=user)["energyStats"]
    assert stats["currentProduction"] == 3500
    assert stats["currentConsumption"] == 4500
    assert stats["currentStorageFlow"] == -500
    assert stats["netGridFlow"] == 500
    assert stats["currentStorage"]["currentLevelWh"] == 5000
    assert stats["currentStorage"]["totalCapacityWh"] == storage.capacity_wh
    assert stats["currentStorage"]["percentage"] == pytest.approx(5000 / storage.capacity_wh * 100)
    assert stats["timestamp"] == "2026-06-21T12:00:00+00:00"
    # The balance holds: production + discharge + import = consumption + charge + export.
    assert 3500 + 500 + stats["netGridFlow"] == 4500


def test_offline_devices_count_no_power_but_storage_keeps_its_level(api, user):
    producer = make_device(user, kind_of("production"), status="offline")
    storage = make_device(user, kind_of("storage"), level_wh=1000, status="offline")
    set_state(producer, power_w=2000)
    set_state(storage, power_w=700, flow_w=700)
    stats = api.data(STATS, user=user)["energyStats"]
    assert stats["currentProduction"] == 0 and stats["currentStorageFlow"] == 0 and stats["netGridFlow"] == 0
    assert stats["currentStorage"]["currentLevelWh"] == 1000
    assert stats["currentStorage"]["totalCapacityWh"] == storage.capacity_wh


def test_charging_storage_is_storage_flow_and_exports_are_negative(api, user):
    producer = make_device(user, kind_of("production"))
    storage = make_device(user, kind_of("storage"))
    set_state(producer, power_w=5000)
    set_state(storage, power_w=1000, flow_w=1000)
    stats = api.data(STATS, user=user)["energyStats"]
    assert stats["currentStorageFlow"] == 1000 and stats["currentConsumption"] == 0
    assert stats["netGridFlow"] == -4000


def test_stats_are_per_user(api, user, other_user):
    set_state(make_device(other_user, kind_of("production")), power_w=999)
    assert api.data(STATS, user=user)["energyStats"]["currentProduction"] == 0


def test_history_buckets_follow_the_homes_time_zone(api, user):
    Device.objects.none()
    user.home.time_zone = "America/New_York"
    user.home.save()
    days = api.data(
        HISTORY, {"start": "2026-03-07T05:00:00Z", "end": "2026-03-10T04:00:00Z", "interval": "DAY"}, user=user
    )["energyHistory"]
    # Local midnights, across the switch to daylight saving time on 8 March.
    assert [d["start"] for d in days] == [
        "2026-03-07T00:00:00-05:00", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00",
    ]  # fmt: skip
    assert all(d["productionWh"] == 0 and d["gridImportWh"] == 0 for d in days)


@pytest.mark.parametrize(
    ("interval", "start", "end", "count", "first"),
    [
        ("HOUR", "2026-06-21T00:30:00Z", "2026-06-21T03:00:00Z", 3, "2026-06-21T02:00:00+02:00"),
        ("WEEK", "2026-06-01T00:00:00Z", "2026-06-30T00:00:00Z", 5, "2026-06-01T00:00:00+02:00"),
        ("MONTH", "2026-11-15T00:00:00Z", "2027-02-01T00:00:00Z", 4, "2026-11-01T00:00:00+01:00"),
    ],
)
def test_history_intervals(api, user, interval, start, end, count, first):
    buckets = api.data(HISTORY, {"start": start, "end": end, "interval": interval}, user=user)["energyHistory"]
    assert len(buckets) == count and buckets[0]["start"] == first


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"start": "2026-06-02T00:00:00Z", "end": "2026-06-01T00:00:00Z", "interval": "DAY"}, "end"),
        ({"start": "2000-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z", "interval": "HOUR"}, "interval"),
        ({"start": "2026-06-01T00:00:00Z", "end": "2026-06-02T00:00:00Z", "interval": "FORTNIGHT"}, "interval"),
        ({"start": "yesterday", "end": "2026-06-02T00:00:00Z", "interval": "DAY"}, "start"),
    ],
)
def test_bad_history_ranges_are_refused(api, user, variables, field):
    error = api.error(HISTORY, variables, user=user)
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and error["extensions"]["field"] == field
