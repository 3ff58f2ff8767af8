"""Listing devices reads every live device's pending command in one query, whatever
the number of live devices, and each device still shows its own latest one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from freezegun import freeze_time

from hems.devices.models import CommandState, DeviceCommand
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

ALL_DEVICES = "{ allDevices { id source pendingCommand { field value sentAt state } } }"
NOW = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)


def add_live(user, count: int, start: int = 0) -> list:
    """Live devices, each with an old pending command, a newer pending one (the one to
    show) and a still newer confirmed one (settled: not shown)."""
    devices = [
        make_device(user, kind_keys()[i % len(kind_keys())], name=f"live {i}", source="live")
        for i in range(start, start + count)
    ]
    commands = []
    for i, device in enumerate(devices, start):
        commands += [
            DeviceCommand(device=device, field="status", value="offline", sent_at=NOW - timedelta(minutes=5)),
            DeviceCommand(device=device, field="name", value=f"wanted {i}", sent_at=NOW - timedelta(seconds=10)),
            DeviceCommand(device=device, field="status", value="online", sent_at=NOW, state=CommandState.CONFIRMED),
        ]
    DeviceCommand.objects.bulk_create(commands)
    return devices


def test_listing_costs_the_same_queries_for_one_live_device_and_for_thirty(api, user, other_user):
    make_device(user, kind_keys()[0], name="simulated")
    add_live(other_user, 2)  # another home's commands are never read into this one's listing

    def listing():
        with freeze_time(NOW + timedelta(seconds=1)), CaptureQueriesContext(connection) as queries:
            listed = api.data(ALL_DEVICES, user=user)["allDevices"]
        return listed, len(queries)

    devices = add_live(user, 1)
    listed, one = listing()
    devices += add_live(user, 29, start=1)
    listed, thirty = listing()
    assert one == thirty <= 3  # the caller, the devices, their pending commands
    wanted = {str(device.pk): f"wanted {i}" for i, device in enumerate(devices)}
    shown = {row["id"]: row["pendingCommand"] for row in listed if row["source"] == "LIVE"}
    assert {pk: (c["field"], json.loads(c["value"]), c["state"]) for pk, c in shown.items()} == {
        pk: ("name", value, "PENDING") for pk, value in wanted.items()
    }
    assert [row["pendingCommand"] for row in listed if row["source"] == "SIMULATED"] == [None]


def test_each_listed_device_shows_its_own_latest_pending_command(api, user):
    first, second, quiet = add_live(user, 3)
    DeviceCommand.objects.filter(device=quiet).update(state=CommandState.CONFIRMED)
    with freeze_time(NOW + timedelta(minutes=3)):  # past the timeout: the pending one reads as failed
        listed = {row["id"]: row["pendingCommand"] for row in api.data(ALL_DEVICES, user=user)["allDevices"]}
    assert json.loads(listed[str(first.pk)]["value"]) == "wanted 0"
    assert json.loads(listed[str(second.pk)]["value"]) == "wanted 1"
    assert listed[str(first.pk)]["state"] == "FAILED"
    assert listed[str(quiet.pk)] is None
