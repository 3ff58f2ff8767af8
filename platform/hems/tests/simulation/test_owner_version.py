"""The owner counters kept by PostgreSQL's triggers (migration simulation.0006): every
change to an owner's devices or home moves them, and while they hold, the tick skips
the exact version's aggregate over the shard's device rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from hems.devices.models import Device, DeviceState
from hems.simulation import loader
from hems.simulation.tick import run_tick, shard_bounds
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)


def counters():
    return loader.owner_version(*shard_bounds(0))


def test_every_change_to_an_owners_devices_or_home_moves_the_counters(user):
    seen = [counters()]

    def moved():
        now = counters()
        assert now != seen[-1] and now[1] > seen[-1][1], (seen[-1], now)
        seen.append(now)

    device = make_device(user, kind_keys()[0])
    moved()
    device.name = "renamed"
    device.save()
    moved()
    Device.objects.filter(pk=device.pk).update(name="raw")  # behind the model's back too
    moved()
    home = user.home
    home.time_zone = "Asia/Kolkata"
    home.save()
    moved()
    device.delete()
    moved()
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no deferred checks pending
        cursor.execute("TRUNCATE hems_device CASCADE")
    moved()


def test_the_tick_reads_the_exact_version_only_when_the_counters_moved(user):
    producer = make_device(user, kind_keys()[0])
    run_tick(NOON)
    before = loader.versions_read["exact"]
    run_tick(NOON + timedelta(minutes=1))
    run_tick(NOON + timedelta(minutes=2))
    assert loader.versions_read["exact"] == before
    DeviceState.objects.filter(pk=producer.pk).update(power_w=1.0)  # state is not configuration
    run_tick(NOON + timedelta(minutes=3))
    assert loader.versions_read["exact"] == before
    producer.status = "offline"
    producer.save()
    run_tick(NOON + timedelta(minutes=4))
    assert loader.versions_read["exact"] == before + 1
    assert DeviceState.objects.get(pk=producer.pk).power_w == 0
