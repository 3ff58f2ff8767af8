"""A process keeps the state rows its tick wrote and reads again only those someone
else wrote since (``stored``, ``loader.changed_states``): what it then simulates from
must be exactly what reading every row gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db import connection, transaction

from hems.devices.models import DeviceState
from hems.plugins import registry
from hems.simulation import loader, recording
from hems.simulation.models import HomeEnergy
from hems.simulation.pgcopy import copy_in, copy_out, epoch_seconds, timestamps
from hems.simulation.stored import as_stored, stored_level
from hems.simulation.tick import run_tick, shard_bounds
from hems.tests.factories import kind_keys, make_device, storage_kind_keys

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 22, 9, 57, tzinfo=UTC)  # the ticks cross 10:00 UTC, a new hour
COLUMNS = ("ids", "owner", "capacity_wh", "simulated_at", "xmin")


@pytest.fixture
def homes(user, django_user_model):
    other = django_user_model.objects.create(username="neighbour")
    devices = [make_device(owner, key) for owner in (user, other) for key in kind_keys()]
    return devices


def load(read_all: bool):
    lo, hi = shard_bounds(0)
    if read_all:
        loader._cache[(lo, hi)].written = None
    return loader.with_ticks(loader._load_shard(registry(), lo, hi)[1], lo, hi)


def assert_same(kinds, expected):
    """Every state field the tick simulates from, NaN equal to NaN, bit for bit."""
    assert [k.kind.key for k in kinds] == [k.kind.key for k in expected]
    for got, want in zip(kinds, expected, strict=True):
        for name in COLUMNS:
            np.testing.assert_array_equal(getattr(got, name), getattr(want, name), err_msg=f"{got.kind.key} {name}")
        for name in loader.STATE_FIELDS:
            np.testing.assert_array_equal(
                getattr(got.state, name), getattr(want.state, name), err_msg=f"{got.kind.key} state.{name}"
            )
        for name, values in want.hour.items():
            np.testing.assert_array_equal(got.hour[name], values, err_msg=f"{got.kind.key} hour {name}")


def test_the_next_tick_reads_no_row_and_sees_what_reading_every_row_sees(homes, settings):
    # Ended hours filed over 3 minutes: some wait in the state rows, some are filed from there.
    settings.HEMS_DEVICE_HOUR_FILING_MINUTES = 3
    for minute in range(6):
        run_tick(START + timedelta(minutes=minute))
    before = loader.state_reads["changed"]
    kept = load(read_all=False)
    assert loader.state_reads["changed"] == before + 1
    assert_same(kept, load(read_all=True))


def test_a_row_someone_else_wrote_since_is_read_again(homes):
    run_tick(START)
    run_tick(START + timedelta(minutes=1))
    storage = next(d for d in homes if d.kind in storage_kind_keys())
    DeviceState.objects.filter(pk=storage.pk).update(level_wh=1234.5, power_w=0.0, since=None)
    kept = load(read_all=False)
    (rows,) = [k for k in kept if k.kind.key == storage.kind]
    at = int(np.flatnonzero(rows.ids == storage.pk)[0])
    assert rows.state.level_wh[at] == 1234.5 and np.isnan(rows.state.since[at])
    assert_same(kept, load(read_all=True))


def test_a_tick_rolled_back_after_its_write_leaves_nothing_believed(homes, monkeypatch):
    run_tick(START)
    run_tick(START + timedelta(minutes=1))

    def fail(result):
        raise RuntimeError("the history write failed")

    monkeypatch.setattr(recording, "write_history", fail)
    with pytest.raises(RuntimeError):
        run_tick(START + timedelta(minutes=2))
    monkeypatch.undo()
    kept = load(read_all=False)
    assert all((k.simulated_at == (START + timedelta(minutes=1)).timestamp()).all() for k in kept)
    assert_same(kept, load(read_all=True))


def snapshot():
    states = DeviceState.objects.order_by("pk").values_list(
        "pk", "power_w", "flow_w", "level_wh", "since", "aux", "simulated_at", "hour_start", "hour_energy_wh",
        "hour_charge_wh", "hour_discharge_wh", "closed_hour_start", "closed_energy_wh", "closed_charge_wh",
        "closed_discharge_wh", "closed_level_wh",
    )  # fmt: skip
    energy = HomeEnergy.objects.order_by("owner_id", "period_start").values_list(
        "owner_id", "period_start", "production_wh", "consumption_wh", "storage_charge_wh", "storage_discharge_wh",
        "grid_import_wh", "grid_export_wh",
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute("SELECT device_id, hour_start, energy_wh, charge_wh, discharge_wh, level_wh "
                       "FROM hems_device_energy ORDER BY 1, 2")  # fmt: skip
        hours = cursor.fetchall()
    return list(states), list(energy), hours


def test_ticks_from_kept_rows_book_what_ticks_from_read_rows_book(homes, settings):
    """The same homes ticked twice over the same minutes (the first run rolled back),
    once keeping the written rows between ticks and once reading every row each tick:
    the same states and the same history, to the bit."""
    settings.HEMS_DEVICE_HOUR_FILING_MINUTES = 10  # ended hours wait; some are filed by 10:04

    def run(keep: bool):
        before = loader.state_reads["changed"]
        with transaction.atomic():
            loader.forget()
            for minute in range(8):
                if not keep:
                    loader.forget()
                run_tick(START + timedelta(minutes=minute))
            result = snapshot()
            transaction.set_rollback(True)
        assert loader.state_reads["changed"] - before == (7 if keep else 0)
        return result

    kept, read = run(keep=True), run(keep=False)
    assert len(kept[1]) == 2 * 8
    assert kept[2] and any(state[11] is not None for state in kept[0])  # hours filed, and one waiting
    assert kept == read


def test_levels_and_instants_are_kept_as_postgresql_stores_them():
    """The write's clipping (PostgreSQL orders NaN above every number) and timestamptz's
    whole microseconds, against the server itself."""
    levels = np.array([np.nan, -1.0, 0.0, 42.25, 99.999, 1e9, 5.0])
    capacity = np.array([100.0, 100.0, 100.0, 100.0, 100.0, 100.0, np.nan])
    instants = np.array([1_782_120_000.1234567, 1_782_120_000.0000004, 946_684_800.5, np.nan, 1.25e9, 0.0, 7.0])
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE kept (i int8, level float8, capacity float8, at timestamptz)")
        copy_in(
            cursor,
            "kept",
            [
                ("i", "int8", np.arange(len(levels))),
                ("level", "float8", levels),
                ("capacity", "float8", capacity),
                ("at", "timestamptz", timestamps(instants)),
            ],
        )
        rows = copy_out(
            cursor,
            "SELECT COALESCE(CASE WHEN capacity = 'NaN' THEN NULL "
            "ELSE LEAST(GREATEST(level, 0), capacity) END, 'NaN'), at FROM kept ORDER BY i",
            [("level", "float8"), ("at", "timestamptz")],
        )
    np.testing.assert_array_equal(stored_level(levels, capacity), np.asarray(rows["level"], dtype=float))
    np.testing.assert_array_equal(as_stored(instants), epoch_seconds(rows["at"]))
    assert as_stored(instants)[0] != instants[0]  # the sub-microsecond part is gone


def test_rows_kept_longer_than_a_transaction_id_can_be_trusted_are_read_again(homes):
    run_tick(START)
    run_tick(START + timedelta(minutes=1))
    lo, hi = shard_bounds(0)
    loader._cache[(lo, hi)].written.at -= loader.WRITTEN_MAX_AGE_S
    before = dict(loader.state_reads)
    run_tick(START + timedelta(minutes=2))
    assert loader.state_reads["all"] == before.get("all", 0) + 1
    assert loader.state_reads["changed"] == before.get("changed", 0)
