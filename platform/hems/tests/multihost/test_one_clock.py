"""Cached stats are stale when a home changed after its figures were read. On several
hosts "after" must not be decided by comparing two hosts' clocks (a worker's clock a
minute ahead would hide every change made in that minute): both moments are read
from Redis's own clock. Each test runs one host's part with its clock set ahead, and
the other's change with the real one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from freezegun import freeze_time

from hems.energy import cache
from hems.simulation.tick import minute_of, run_shard, shard_of
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db(transaction=True)
AHEAD = timedelta(minutes=1)


@pytest.fixture
def home(user):
    return [make_device(user, key) for key in kind_keys()]


def change_a_device(device) -> None:
    """On another host, with the real clock: a saved change marks the figures stale."""
    with transaction.atomic():
        device.name = "renamed"
        device.save()


def test_a_change_after_the_tick_read_is_seen_though_the_worker_clock_runs_ahead(user, home):
    now = datetime.now(UTC)
    with freeze_time(now + AHEAD):  # the worker host's clock
        assert run_shard(minute_of(now + AHEAD), shard_of(user.pk)).applied
    assert cache.read(user.pk) is not None  # the tick's figures are cached...
    change_a_device(home[0])
    assert cache.read(user.pk) is None  # ...and stale once a device changed after the tick read it


def test_a_change_after_a_web_host_recomputed_is_seen_though_its_clock_runs_ahead(user, home):
    with freeze_time(datetime.now(UTC) + AHEAD):  # one web host's clock
        cache.stats_for(user.pk)
    assert cache.read(user.pk) is not None
    change_a_device(home[0])  # through another web host
    assert cache.read(user.pk) is None
