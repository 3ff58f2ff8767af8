"""A Celery worker reads every shard's configuration before it forks its pool
(``HEMS_TICK_PRELOAD``): a pool process starts with it, and its first tick of a shard
reads only the state rows, not the shard whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from hems.devices.models import DeviceState
from hems.simulation import loader, tasks
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, last_simulated, make_device

pytestmark = pytest.mark.django_db(transaction=True)  # the handler closes the connection

NOON = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)


@pytest.fixture
def homes(user, django_user_model):
    far = django_user_model.objects.create(id=5000, username="far-owner")  # a second shard
    return [make_device(owner, key) for owner in (user, far) for key in kind_keys()]


def test_the_first_tick_after_the_preload_reads_only_the_state_rows(homes, settings):
    settings.HEMS_TICK_PRELOAD = True
    run_tick(NOON)
    loader.forget()  # a new worker's main process: nothing read yet
    tasks.preload_shards()
    assert connection.connection is None  # closed: the pool processes fork after this
    assert len(loader._cache) == 3  # shards 0, 1 and 2 (owners up to 5000, 2,500 a shard)
    full, cached, read_all = loader.loads["full"], loader.loads["cached"], loader.state_reads["all"]
    run_tick(NOON + timedelta(minutes=1))
    assert loader.loads["full"] == full  # no shard read whole
    assert loader.loads["cached"] == cached + 3 and loader.state_reads["all"] == read_all + 3
    assert {last_simulated(state) for state in DeviceState.objects.all()} == {NOON + timedelta(minutes=1)}


def test_without_the_preload_the_first_tick_reads_each_shard_whole(homes, settings):
    settings.HEMS_TICK_PRELOAD = False
    run_tick(NOON)
    loader.forget()
    tasks.preload_shards()
    assert not loader._cache
    full = loader.loads["full"]
    run_tick(NOON + timedelta(minutes=1))
    assert loader.loads["full"] == full + 3
