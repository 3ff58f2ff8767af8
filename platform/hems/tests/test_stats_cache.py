"""The tick's figures in Redis, packed, read back by energyStats as the database gives
them; a hash in an older layout is recomputed, never misread."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from freezegun import freeze_time

from hems.energy import cache
from hems.energy.stats import stats_from_database
from hems.simulation.tick import run_tick
from hems.tests.api.test_energy import kind_of
from hems.tests.factories import make_device

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 21, 12, 0, tzinfo=UTC)


@pytest.fixture
def ticked(user, other_user):
    for owner in (user, other_user):
        make_device(owner, kind_of("production"))
        make_device(owner, kind_of("consumption"))
        make_device(owner, kind_of("storage"))
    run_tick(NOON)
    return user


def test_the_ticks_figures_read_back_as_the_database_gives_them(ticked, other_user):
    for owner in (ticked, other_user):
        cached = cache.read(owner.pk)
        assert cached is not None
        assert cached == stats_from_database(owner.pk, NOON)
        assert cached.timestamp == NOON


def test_a_change_after_the_tick_read_makes_them_stale(ticked):
    cache.config_changed(ticked.pk)
    assert cache.read(ticked.pk) is None


@freeze_time(NOON)
def test_a_hash_in_the_older_layout_is_recomputed_and_rewritten(ticked):
    cache.client().delete(cache.key(ticked.pk))
    # What hems wrote before the figures were packed: one field per figure.
    older = {name: "1e6" for name in cache.FIELDS} | {"timestamp": NOON.timestamp(), "loaded_at": 9e9}
    cache.client().hset(cache.key(ticked.pk), mapping=older)
    assert cache.read(ticked.pk) is None
    assert cache.stats_for(ticked.pk) == stats_from_database(ticked.pk, NOON)
    assert cache.read(ticked.pk) == stats_from_database(ticked.pk, NOON)


@pytest.mark.parametrize("chunk", [2, 5, 2000])
def test_many_homes_each_read_back_their_own_figures(chunk):
    """The tick writes its homes' figures in chunks, each home its slice of one packed
    string: every home reads back exactly its own, across the chunks' edges."""
    from hems.energy.stats import HomeTotals

    # In no order, as a shard's homes; ids no other test of this process uses.
    owners = 10**9 + np.array([7, 3, 11, 2, 5], dtype=np.int64)
    rng = np.random.default_rng(chunk)
    totals = HomeTotals(**{name: rng.uniform(0, 9_000, len(owners)) for name in (
        "production", "consumption", "storage_flow", "capacity_wh", "level_wh", "percentage", "net_grid")})  # fmt: skip
    cache.write_totals(owners, totals, NOON, loaded_at=NOON.timestamp(), chunk=chunk)
    for index, owner in enumerate(owners.tolist()):
        assert cache.read(owner) == totals.stats(index, NOON)
