"""Beat stopped for an hour, then restarted: levels integrate the real gap, history
says what span it covered (no made-up minutes), and beat sends one tick, not sixty.
(Each storage driver checks its own physics over a gap in its tests.)"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from freezegun import freeze_time

from hems.celery import app
from hems.devices.models import Device, DeviceState
from hems.simulation import tasks
from hems.simulation.models import HomeEnergy
from hems.simulation.tick import run_shard, run_tick
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)  # a Monday, noon in Berlin: the sun is up


@pytest.fixture
def home(user):
    return [make_device(user, key) for key in kind_keys()]


def states() -> dict[int, DeviceState]:
    return {s.pk: s for s in DeviceState.objects.all()}


def types() -> dict[int, str]:
    return dict(Device.objects.values_list("pk", "device_type"))


def test_an_hour_without_ticks_is_integrated_by_the_next_one(user, home):
    run_tick(T0)
    before = states()
    after_gap = T0 + timedelta(hours=1)
    run_tick(after_gap)  # beat was stopped in between
    after = states()

    rows = list(HomeEnergy.objects.filter(owner_id=user.pk).order_by("period_end"))
    assert len(rows) == 2, "one row for the tick after the gap, no made-up minutes"
    gap = rows[1]
    assert (gap.period_start, gap.period_end) == (T0, after_gap)
    # Powers computed at a tick hold over the span since the last one: a whole hour.
    kind_of = types()
    produced = sum(s.power_w for pk, s in after.items() if kind_of[pk] == "production" and s.available)
    assert produced > 0 and gap.production_wh == pytest.approx(produced * 1.0)
    moved = 0
    for pk, state in after.items():
        if kind_of[pk] == "storage" and state.flow_w:
            change, hour_of_flow = abs(state.level_wh - before[pk].level_wh), abs(state.flow_w) * 1.0
            assert 0.5 * hour_of_flow <= change <= 2.0 * hour_of_flow, pk  # losses aside, an hour of flow
            moved += 1
    assert moved, "some storage charged or discharged over the gap"


def test_a_gap_beyond_the_limit_is_integrated_up_to_it_and_the_row_says_so(user, home, settings):
    settings.HEMS_TICK_MAX_ELAPSED_HOURS = 2
    run_tick(T0)
    after_gap = T0 + timedelta(hours=3)
    run_tick(after_gap)
    last = HomeEnergy.objects.filter(owner_id=user.pk).latest("period_end")
    assert (last.period_start, last.period_end) == (after_gap - timedelta(hours=2), after_gap)  # an hour's hole


def test_a_shard_retried_after_later_ticks_changes_nothing(user, home):
    run_tick(T0)
    run_tick(T0 + timedelta(minutes=2))
    before = list(DeviceState.objects.order_by("pk").values())
    rows = HomeEnergy.objects.count()
    run_shard(T0 + timedelta(minutes=1), 0)  # a redelivered shard of the tick in between
    assert list(DeviceState.objects.order_by("pk").values()) == before
    assert HomeEnergy.objects.count() == rows


@pytest.mark.django_db(transaction=True)  # the scheduler manages its own connection
def test_beat_sends_one_tick_after_an_hour_down_and_it_expires_within_its_minute(monkeypatch):
    from django.apps import apps
    from django_celery_beat.schedulers import DatabaseScheduler

    # The schedule the migration registers; an earlier transactional test's flush may
    # have emptied the table, so register it again as the migration does.
    import_module("hems.simulation.migrations.0002_register_tick").register(apps, None)
    sent = []
    monkeypatch.setattr(tasks.tick, "apply_async", lambda *args, **options: sent.append(options))
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(seconds=2)
    with freeze_time(start) as clock:
        beat = DatabaseScheduler(app=app)
        for _ in range(3):
            beat.tick()
        assert len(sent) <= 1  # this minute's, if its last run is older
        sent.clear()
        clock.move_to(start + timedelta(minutes=1))
        for _ in range(3):
            beat.tick()
        assert len(sent) == 1  # due once in the minute
        clock.move_to(start + timedelta(hours=1, minutes=1))  # beat was down for an hour
        for _ in range(3):
            beat.tick()
        beat._finalize()  # its sync at exit, now, while the test database exists
    assert len(sent) == 2, "one tick for the new minute, no catch-up burst"
    assert all(options["expires"] == tasks.TICK_EXPIRES_S for options in sent)
