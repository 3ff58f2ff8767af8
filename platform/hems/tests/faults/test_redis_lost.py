"""Redis down or flushed under a running system: energyStats answers the same figures
from PostgreSQL (one query more, flagged in the logs), the tick carries on without its
cache, and the next tick fills Redis again. (test_celery.py covers the plain flush.)"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from hems.devices.models import DeviceState
from hems.energy import cache
from hems.simulation import tasks
from hems.simulation.models import HomeEnergy
from hems.simulation.tick import run_tick
from hems.testing.plugin import flush_redis_prefix
from hems.tests.energy_api import stats
from hems.tests.factories import last_simulated

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("eager")]

T0 = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)
T1 = T0 + timedelta(minutes=1)
NOWHERE = "redis://127.0.0.1:1/0"  # nothing listens there: Redis is down, as hems sees it


def records(caplog, level: int, text: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "hems.energy" and r.levelno == level and text in r.getMessage()]


def test_a_flushed_cache_is_recomputed_and_flagged(api, user, home, settings, caplog):
    tasks.tick.delay(instant=T0.isoformat())
    cached, queries = stats(api, user)
    assert queries == 1
    flush_redis_prefix(settings.HEMS_REDIS_PREFIX)  # FLUSHDB, as far as this run's keys go
    with caplog.at_level(logging.INFO, logger="hems.energy"):
        recomputed, queries = stats(api, user)
    assert recomputed == cached and queries == 2  # the same figures, one query more
    assert records(caplog, logging.INFO, f"owner {user.pk} recomputed from PostgreSQL")


def test_the_tick_runs_without_redis_and_the_next_one_fills_it_again(api, user, home, settings, caplog):
    tasks.tick.delay(instant=T0.isoformat())
    reachable, settings.REDIS_URL = settings.REDIS_URL, NOWHERE
    with caplog.at_level(logging.INFO, logger="hems.energy"):
        run_tick(T1)  # must not fail (run here, not eagerly, so an error would surface)
        assert all(last_simulated(s) == T1 for s in DeviceState.objects.all())
        assert HomeEnergy.objects.filter(owner_id=user.pk, period_end=T1).count() == 1
        assert records(caplog, logging.WARNING, "could not cache energy stats")

        down, queries = stats(api, user)  # Redis still holds T0's figures, but cannot be reached
        assert down["timestamp"] == T1.isoformat() and queries == 2
        assert records(caplog, logging.WARNING, "redis unreachable")

    settings.REDIS_URL = reachable
    assert cache.read(user.pk).timestamp == T0  # what the tick during the outage could not replace
    tasks.tick.delay(instant=(T1 + timedelta(minutes=1)).isoformat())
    assert cache.read(user.pk).timestamp == T1 + timedelta(minutes=1)  # the next tick filled it
    back, queries = stats(api, user)
    assert queries == 1 and back["timestamp"] == (T1 + timedelta(minutes=1)).isoformat()
    flush_redis_prefix(settings.HEMS_REDIS_PREFIX)
    assert stats(api, user)[0] == back  # Redis's figures are PostgreSQL's
