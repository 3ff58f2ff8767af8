"""The Celery task path (eager at this level) and the stats it leaves in Redis."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from hems.devices.models import DeviceState
from hems.energy import cache
from hems.simulation import tasks
from hems.simulation.models import HomeEnergy, TickShard
from hems.testing.plugin import flush_redis_prefix
from hems.tests.energy_api import stats
from hems.tests.factories import last_simulated

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)


def test_the_tick_task_fans_out_and_energy_stats_come_from_redis(eager, api, user, home, settings):
    tasks.tick.delay(instant=NOON.isoformat())
    assert TickShard.objects.filter(instant=NOON).exists()
    assert all(last_simulated(s) == NOON for s in DeviceState.objects.all())
    served, queries = stats(api, user)
    assert queries == 1  # the caller, from the token; the figures come from Redis
    assert served["timestamp"] == "2026-06-22T10:00:00+00:00"
    assert served["currentProduction"] > 0
    flush_redis_prefix(settings.HEMS_REDIS_PREFIX)
    recomputed, queries = stats(api, user)
    assert recomputed == served and queries > 1  # recomputed from PostgreSQL...
    assert cache.read(user.pk) is not None  # ...and written back
    assert stats(api, user)[1] == 1


def test_a_duplicated_tick_is_applied_once(eager, home):
    tasks.tick.delay(instant=NOON.isoformat())
    levels = {s.pk: s.level_wh for s in DeviceState.objects.all()}
    tasks.tick.delay(instant=NOON.isoformat())
    tasks.tick_shard.delay(NOON.isoformat(), 0)
    assert {s.pk: s.level_wh for s in DeviceState.objects.all()} == levels
    assert HomeEnergy.objects.count() == 1 and TickShard.objects.count() == 1


def test_a_change_after_the_tick_is_not_hidden_by_cached_stats(
    eager, api, user, home, django_capture_on_commit_callbacks
):
    tasks.tick.delay(instant=NOON.isoformat())
    before, _ = stats(api, user)
    producers = [d for d in home if d.device_type == "production"]
    with django_capture_on_commit_callbacks(execute=True):
        api.data(
            'mutation($id: ID!) { updateDevice(id: $id, input: {status: OFFLINE}) { device { id } } }',
            {"id": producers[0].pk}, user=user,
        )  # fmt: skip
    after, queries = stats(api, user)
    assert queries > 1, "stale figures must be recomputed"
    assert after["currentProduction"] == pytest.approx(
        before["currentProduction"] - DeviceState.objects.get(pk=producers[0].pk).power_w
    )


def test_energy_stats_without_redis_come_from_postgresql(eager, api, user, home, settings, caplog):
    tasks.tick.delay(instant=NOON.isoformat())
    expected, _ = stats(api, user)
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    served, queries = stats(api, user)
    assert served == expected and queries > 1
    assert "redis unreachable" in caplog.text


def test_beat_messages_are_stamped_with_their_scheduled_minute_and_shard_size(settings):
    body = ((), {}, {})
    tasks.stamp_tick_instant(sender=tasks.TICK, body=body)
    stamped = datetime.fromisoformat(body[1]["instant"])
    assert stamped.second == 0 and stamped.microsecond == 0
    assert body[1]["homes_per_shard"] == settings.HEMS_TICK_HOMES_PER_SHARD
    assert abs(stamped - datetime.now(UTC)) <= timedelta(seconds=31)
    other = ((), {}, {})
    tasks.stamp_tick_instant(sender="someone.else", body=other)
    assert other[1] == {}


def test_the_tick_is_registered_with_beat():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task=tasks.TICK)
    assert task.enabled and task.crontab.minute == "*" and task.crontab.hour == "*"


def test_history_maintenance_prepares_the_coming_days_and_drops_the_expired(eager, settings):
    from django.utils import timezone

    from hems.simulation import history

    today = timezone.now().date()
    old = today - timedelta(days=settings.HEMS_DEVICE_HISTORY_RETENTION_DAYS + 1)
    history.ensure_partitions(old, old, table=history.DEVICE_TABLE)
    dropped = tasks.maintain_history.delay().get()
    assert history.partition_name(old, history.DEVICE_TABLE) in dropped
    with connection.cursor() as cursor:
        for table in (history.TABLE, history.DEVICE_TABLE):
            for day in range(4):
                name = history.partition_name(today + timedelta(days=day), table)
                cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
                assert cursor.fetchone()[0], name


def test_a_shard_covers_the_owner_range_its_message_carries(eager, settings, django_user_model):
    """The range comes from the host that fanned out: this host's shard size (here 100)
    does not change which owners shard 0 of 2,500 covers."""
    from hems.tests.factories import kind_keys, make_device

    user = django_user_model.objects.create(id=250, username="far-owner")
    for key in kind_keys():
        make_device(user, key)
    settings.HEMS_TICK_HOMES_PER_SHARD = 100
    tasks.tick_shard.delay(NOON.isoformat(), 0, 0, 2500)
    assert all(last_simulated(s) == NOON for s in DeviceState.objects.filter(owner_id=250))
    assert list(TickShard.objects.values_list("shard", "devices")) == [(0, len(kind_keys()))]
    # A message without a range (an older fan-out) covers this host's range for its shard.
    later = NOON + timedelta(minutes=1)
    tasks.tick_shard.delay(later.isoformat(), 2)
    assert all(last_simulated(s) == later for s in DeviceState.objects.filter(owner_id=250))


@pytest.mark.parametrize("shard, lo, hi", [(1, 0, 2500), (0, 100, 200), (0, 10, 5), (-1, -2500, 0)])
def test_a_shard_message_whose_range_is_not_its_shard_is_refused(eager, home, shard, lo, hi):
    with pytest.raises(ValueError, match="cannot cover owners"):
        tasks.tick_shard(NOON.isoformat(), shard, lo, hi)
    assert not TickShard.objects.exists()
    assert not DeviceState.objects.filter(simulated_at__isnull=False).exists()


def test_the_fan_out_puts_each_shards_owner_range_in_its_message(settings, django_user_model, monkeypatch):
    """The ranges follow the shard size stamped into the tick message by its sender
    (beat's host), not the setting of the worker that happens to fan it out."""
    from hems.tests.factories import kind_keys, make_device

    make_device(django_user_model.objects.create(id=250, username="far-owner"), kind_keys()[0])
    sent = []
    monkeypatch.setattr(tasks.group, "apply_async", lambda self, *a, **k: sent.extend(s.args for s in self.tasks))
    settings.HEMS_TICK_HOMES_PER_SHARD = 2500
    assert tasks.tick(instant=NOON.isoformat(), homes_per_shard=100) == 3
    assert sent == [(NOON.isoformat(), n, n * 100, (n + 1) * 100) for n in range(3)]
    sent.clear()
    settings.HEMS_TICK_HOMES_PER_SHARD = 200  # an older message, without the size: this host's
    assert tasks.tick(instant=NOON.isoformat()) == 2
    assert sent == [(NOON.isoformat(), n, n * 200, (n + 1) * 200) for n in range(2)]
    sent.clear()
    with pytest.raises(ValueError, match="at least 1"):
        tasks.tick(instant=NOON.isoformat(), homes_per_shard=-5)
    assert sent == []
