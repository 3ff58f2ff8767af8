"""The embedded mode's pieces, run here against PostgreSQL: the ORM loader gives the
engine exactly what the fast path gives, and the in-process ticker ticks once a
minute, never in a burst."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from freezegun import freeze_time

from hems.plugins import registry
from hems.simulation import loader, portable_loader, ticker
from hems.simulation.models import HomeEnergy, TickShard
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db


def assert_same(a: np.ndarray, b: np.ndarray, what: str) -> None:
    assert a.dtype.kind == b.dtype.kind, what
    if a.dtype.kind == "f":
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6, equal_nan=True, err_msg=what)
    else:
        np.testing.assert_array_equal(a, b, err_msg=what)


def test_the_orm_loader_reads_what_the_copy_loader_reads():
    call_command("seed", "--homes", "4", "--devices-per-home", "30", "--prefix", "portable", stdout=StringIO())
    run_tick(datetime(2026, 6, 21, 12, tzinfo=UTC))  # states with levels, hours, timestamps
    hi = 10**9
    fast_homes, fast = loader.load_whole_shard(registry(), 0, hi)
    slow_homes, slow = portable_loader.load_shard(registry(), 0, hi)
    for name in ("owner", "latitude", "longitude", "time_zone"):
        np.testing.assert_array_equal(getattr(fast_homes, name), getattr(slow_homes, name))
    assert [k.kind.key for k in fast] == [k.kind.key for k in slow]
    assert sum(len(k) for k in fast) == 120
    for f, s in zip(fast, slow, strict=True):
        key = f.kind.key
        for name in ("ids", "owner", "online", "capacity_wh", "simulated_at", "updated_us"):
            assert_same(getattr(f, name), getattr(s, name), f"{key}.{name}")
        for name in f.state.__dataclass_fields__:
            assert_same(getattr(f.state, name), getattr(s.state, name), f"{key}.state.{name}")
        assert f.config.keys() == s.config.keys()
        for name in f.config:
            assert_same(f.config[name], s.config[name], f"{key}.config.{name}")
        for name in f.hour:
            assert_same(f.hour[name], s.hour[name], f"{key}.hour.{name}")


def test_the_ticker_ticks_at_once_then_on_each_minute(user):
    make_device(user, kind_keys()[0])
    with freeze_time("2026-06-21T12:00:20Z") as frozen:
        naps = []

        def sleep(seconds):
            naps.append(seconds)
            frozen.tick(timedelta(seconds=seconds))

        ticker.run(ticks=3, sleep=sleep)
    assert [t.instant for t in TickShard.objects.order_by("instant")] == [
        datetime(2026, 6, 21, 12, m, tzinfo=UTC) for m in (0, 1, 2)
    ]
    assert naps[0] == pytest.approx(40.05)  # to just past the next minute, not a fixed minute


def test_after_a_long_pause_the_ticker_runs_one_tick_not_the_missed_ones(user):
    make_device(user, kind_keys()[0])
    with freeze_time("2026-06-21T12:00:05Z") as frozen:
        last = ticker.tick_once(datetime.now(UTC), None)
        frozen.tick(timedelta(hours=1))  # the laptop slept
        last = ticker.tick_once(datetime.now(UTC), last)
        assert ticker.tick_once(datetime.now(UTC), last) == last  # nothing more this minute
    assert TickShard.objects.count() == 2
    late = HomeEnergy.objects.order_by("period_start").last()
    assert late.period_end - late.period_start == timedelta(hours=1)  # the gap, integrated once


def test_due_is_only_ever_the_current_minute():
    at = datetime(2026, 6, 21, 12, 5, 59, tzinfo=UTC)
    assert ticker.due(at, None) == datetime(2026, 6, 21, 12, 5, tzinfo=UTC)
    assert ticker.due(at, datetime(2026, 6, 21, 12, 5, tzinfo=UTC)) is None
    assert ticker.due(at, datetime(2026, 6, 21, 9, 0, tzinfo=UTC)) == datetime(2026, 6, 21, 12, 5, tzinfo=UTC)


def test_the_ticker_command_refuses_a_bad_count():
    with pytest.raises(CommandError):
        call_command("ticker", "--ticks", "0")
    assert not TickShard.objects.exists()
