"""The tick rewrites only the state rows whose state changed (``stored.must_write``); a
device it left unchanged was simulated all the same (``ticked``): its next span, its
history and its ``lastSimulatedAt`` are what rewriting every row gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pytest
from django.db import connection, transaction

from hems.devices.models import DeviceState
from hems.energy.stats import stats_from_database
from hems.plugins import registry
from hems.simulation import engine, loader, stored
from hems.simulation.models import HomeEnergy
from hems.simulation.tick import run_tick, shard_bounds
from hems.tests.factories import kind_keys, last_simulated, make_device

pytestmark = pytest.mark.django_db

# Night in Europe (no sun, most loads idle); the ticks cross 02:00 UTC.
START = datetime(2026, 6, 22, 1, 57, tzinfo=UTC)
STATE = ("power_w", "flow_w", "level_wh", "available", "since", "aux", "hour_start", "hour_energy_wh",
         "hour_charge_wh", "hour_discharge_wh", "closed_hour_start", "closed_energy_wh", "closed_charge_wh",
         "closed_discharge_wh", "closed_level_wh")  # fmt: skip


@pytest.fixture
def homes(user, django_user_model):
    owners = [user, *(django_user_model.objects.create(username=f"neighbour-{i}") for i in range(3))]
    return [make_device(owner, key) for owner in owners for key in kind_keys()]


def rows() -> dict[int, tuple]:
    """Each state row's stored state, and its own ``simulated_at`` last."""
    return {pk: values for pk, *values in DeviceState.objects.values_list("pk", *STATE, "simulated_at")}


def test_a_tick_rewrites_only_the_rows_whose_state_changed(homes):
    run_tick(START)
    run_tick(START + timedelta(minutes=1))
    before = rows()
    instant = START + timedelta(minutes=2)
    reports = run_tick(instant)
    after = rows()
    changed = {pk for pk in before if before[pk][:-1] != after[pk][:-1]}
    assert 0 < len(changed) < len(homes)  # some devices idle through the minute, some not
    assert {pk for pk, values in after.items() if values[-1] == instant} == changed
    assert all(after[pk][-1] == before[pk][-1] for pk in set(before) - changed)  # not rewritten
    assert sum(r.written for r in reports) == len(changed)
    assert sum(r.devices for r in reports) == len(homes)  # every device simulated
    assert all(last_simulated(state) == instant for state in DeviceState.objects.all())


def snapshot():
    """The states (the instant each device was last simulated, not its row's own), the
    homes' energy per tick and the devices' filed hours."""
    states = [
        (state.pk, *(getattr(state, name) for name in STATE), last_simulated(state))
        for state in DeviceState.objects.order_by("pk")
    ]
    energy = list(
        HomeEnergy.objects.order_by("owner_id", "period_start").values_list(
            "owner_id", "period_start", "period_end", "production_wh", "consumption_wh", "storage_charge_wh",
            "storage_discharge_wh", "grid_import_wh", "grid_export_wh",
        )
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT device_id, hour_start, energy_wh, charge_wh, discharge_wh, level_wh "
                       "FROM hems_device_energy ORDER BY 1, 2")  # fmt: skip
        hours = cursor.fetchall()
    return states, energy, hours


@pytest.mark.parametrize("kept", [True, False], ids=["rows kept between ticks", "every tick a fresh process"])
def test_rewriting_only_changed_rows_books_what_rewriting_every_row_books(homes, settings, monkeypatch, kept):
    """The same homes over the same minutes (the first run rolled back), once rewriting
    every simulated row and once only the changed ones: the same states, the same spans
    (a row left unchanged for minutes still starts its next span at the last tick) and
    the same history, to the bit."""
    settings.HEMS_DEVICE_HOUR_FILING_MINUTES = 3  # ended hours wait in the rows, then go

    def run(every_row: bool):
        if every_row:
            monkeypatch.setattr(stored, "must_write", lambda k, *args: k.due.copy())
        written = 0
        with transaction.atomic():
            loader.forget()
            for minute in range(8):
                if not kept:
                    loader.forget()  # what a restarted worker reads: every row as stored
                written += sum(r.written for r in run_tick(START + timedelta(minutes=minute)))
            result = snapshot()
            transaction.set_rollback(True)
        monkeypatch.undo()
        return result, written

    (every, all_rows), (changed, some_rows) = run(every_row=True), run(every_row=False)
    assert changed == every
    assert some_rows < all_rows
    assert all((end - start).total_seconds() == 60 for _, start, end, *_ in changed[1])  # one minute each
    assert changed[2]  # hours filed


def test_the_next_tick_reads_back_none_of_the_rows_it_left(homes):
    """The process keeps which transaction last wrote each row: rows an earlier tick
    wrote and the last one left are not read again; a row someone else wrote is."""
    for minute in range(4):
        run_tick(START + timedelta(minutes=minute))
    lo, hi = shard_bounds(0)
    last = START + timedelta(minutes=3)
    older = [s for s in DeviceState.objects.all() if s.simulated_at < last]
    assert older  # rows the last tick left as an earlier one wrote them
    before = loader.state_reads["rows again"]
    loader._load_shard(registry(), lo, hi)
    assert loader.state_reads["rows again"] == before

    DeviceState.objects.filter(pk=older[0].pk).update(power_w=777.0)
    kinds = loader._load_shard(registry(), lo, hi)[1]
    assert loader.state_reads["rows again"] == before + 1
    (power,) = [k.state.power_w[k.ids == older[0].pk] for k in kinds if (k.ids == older[0].pk).any()]
    np.testing.assert_array_equal(power, [777.0])


def test_a_device_left_unchanged_reads_as_simulated_at_the_last_tick(homes, api, user):
    for minute in range(3):
        run_tick(START + timedelta(minutes=minute))
    last = START + timedelta(minutes=2)
    mine = DeviceState.objects.filter(owner_id=user.pk)
    assert any(state.simulated_at < last for state in mine)
    listed = api.data("{ allDevices { id lastSimulatedAt } }", user=user)["allDevices"]
    assert {device["lastSimulatedAt"] for device in listed} == {last.isoformat()}
    # The stats without Redis (read from the rows): as of the last tick.
    assert stats_from_database(user.pk, last + timedelta(seconds=30)).timestamp == last


def test_a_row_left_unchanged_for_a_billion_transactions_is_rewritten(homes, settings):
    """Transaction ids are 32 bits: a kept row's writing transaction is trusted only
    while it is recent, so a row left unchanged for long is rewritten, fresh."""
    run_tick(START)
    run_tick(START + timedelta(minutes=1))
    lo, hi = shard_bounds(0)
    owners, kinds = loader.load_shard(registry(), lo, hi)
    result = engine.simulate_shard(
        START + timedelta(minutes=2), owners, kinds, settings.HEMS_TICK_MAX_ELAPSED_HOURS, 300.0, 60
    )
    newest = max(int(k.rows.xmin.max()) for k in result.kinds if len(k.rows))
    assert all((k.rows.xmin > 0).all() for k in result.kinds)  # read with each row
    recent = sum(int(stored.must_write(k, newest).sum()) for k in result.kinds)
    later = (newest + stored.XMIN_MAX_AGE + 1) % 2**32
    aged = sum(int(stored.must_write(k, later).sum()) for k in result.kinds)
    assert recent < len(homes) and aged == len(homes)


def test_rows_of_more_transactions_than_kept_are_rewritten_oldest_first():
    """However long devices stay idle, the next tick's list of known writers stays short:
    the rows of all but the newest ``KEPT_XIDS`` transactions are rewritten."""
    current = 100  # just past the wrap: most ids behind it are near 2**32 (0, 1 and 2 are none)
    behind = np.arange(1, 2 * stored.KEPT_XIDS + 4)
    xids = (current - behind) % 2**32
    xids = xids[xids > 2][: 2 * stored.KEPT_XIDS]  # one row per transaction, newest first
    rows = SimpleNamespace(xmin=np.append(xids, current + 5))  # and one a later transaction wrote
    horizon = stored.xmin_horizon([rows], current)
    assert horizon == np.sort((current - xids) % 2**32)[stored.KEPT_XIDS - 1]
    behind = (current - rows.xmin) % 2**32
    assert ((behind <= horizon) | (behind >= 2**31)).sum() == stored.KEPT_XIDS + 1  # the newest, and the later one
    assert stored.xmin_horizon([SimpleNamespace(xmin=xids[:10])], current) == stored.XMIN_MAX_AGE
