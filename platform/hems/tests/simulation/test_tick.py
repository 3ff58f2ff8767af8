"""The tick over real tables: once per shard, in order, balanced, recorded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hems.devices.models import DeviceState
from hems.plugins import registry
from hems.simulation import loader
from hems.simulation.models import HomeEnergy, TickShard
from hems.simulation.tick import run_shard, run_tick, shard_bounds
from hems.tests.factories import kind_keys, last_simulated, make_device

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)  # a Monday, noon in Berlin
HISTORY = """
query H($start: DateTime!, $end: DateTime!, $interval: Interval!) {
  energyHistory(start: $start, end: $end, interval: $interval) {
    start productionWh consumptionWh storageChargeWh storageDischargeWh gridImportWh gridExportWh
  }
}
"""


def kind_of(device_type, auto=None):
    for key, kind in sorted(registry().kinds.items()):
        modes = getattr(kind.model, "SUPPORTED_MODES", ())
        if kind.device_type == device_type and (auto is None or ("auto" in modes) == auto):
            return key
    raise LookupError(device_type)


@pytest.fixture
def mixed_home(user):
    """A device of every installed kind."""
    return [make_device(user, key) for key in kind_keys()]


def states():
    return {s.pk: (s.power_w, s.flow_w, s.level_wh, s.simulated_at) for s in DeviceState.objects.all()}


def test_a_tick_simulates_every_device_once(mixed_home):
    reports = run_tick(NOON)
    assert sum(r.devices for r in reports) == len(mixed_home)
    assert all(last_simulated(s) == NOON for s in DeviceState.objects.all())


def test_a_repeated_tick_applies_once(mixed_home):
    run_tick(NOON)
    before = states()
    again = run_tick(NOON)
    assert not any(r.applied for r in again)
    assert states() == before
    assert TickShard.objects.filter(instant=NOON).count() == len(again)
    assert HomeEnergy.objects.count() == 1


def test_a_late_tick_changes_nothing_newer(mixed_home):
    run_tick(NOON)
    before = states()
    late = run_tick(NOON - timedelta(minutes=5))
    assert all(r.applied for r in late) and sum(r.devices for r in late) == 0
    assert states() == before
    assert HomeEnergy.objects.count() == 1


def test_the_tick_instant_is_the_scheduled_minute(mixed_home):
    reports = run_tick(NOON + timedelta(seconds=4, microseconds=10))
    assert reports[0].instant == NOON


def test_offline_devices_give_and_take_nothing(user):
    producer = make_device(user, kind_of("production"), status="offline")
    run_tick(NOON)
    state = DeviceState.objects.get(pk=producer.pk)
    assert state.power_w == 0 and last_simulated(state) == NOON


def test_auto_storage_balances_the_home(user):
    producer = make_device(user, kind_of("production"))
    storage = make_device(user, kind_of("storage", auto=True), mode="auto", level_wh=1000)
    consumer = make_device(user, kind_of("consumption"))
    run_tick(NOON)
    p, s, c = (DeviceState.objects.get(pk=d.pk) for d in (producer, storage, consumer))
    surplus = p.power_w - c.power_w
    limit = storage.max_charge_w if surplus > 0 else storage.max_discharge_w
    assert s.flow_w == pytest.approx(max(-limit, min(limit, surplus)), abs=1e-6)


def test_a_user_change_during_the_tick_is_not_lost(user):
    device = make_device(user, kind_of("production"), name="before")
    # The tick writes only live state; a configuration change between its load and
    # its write survives (here: made before the write, after the load would be).
    run_shard(NOON, 0)
    # As the API and the admin write it: updated_at moves too, which the tick's cached
    # configuration watches.
    type(device).objects.filter(pk=device.pk).update(name="renamed", status="offline", updated_at=timezone.now())
    run_shard(NOON + timedelta(minutes=1), 0)
    device.refresh_from_db()
    assert (device.name, device.status) == ("renamed", "offline")
    assert DeviceState.objects.get(pk=device.pk).power_w == 0


def test_a_full_day_balances_at_every_tick_and_the_day_bucket_is_the_sum(api, user, mixed_home):
    step = timedelta(minutes=15)
    start = datetime(2026, 6, 21, 22, 0, tzinfo=UTC)  # Monday 00:00 in Berlin
    for i in range(24 * 4 + 1):
        run_tick(start + i * step)
    rows = list(HomeEnergy.objects.filter(owner_id=user.pk).order_by("period_start").values())
    assert len(rows) == 24 * 4 + 1
    for row in rows:
        supplied = row["production_wh"] + row["storage_discharge_wh"] + row["grid_import_wh"]
        used = row["consumption_wh"] + row["storage_charge_wh"] + row["grid_export_wh"]
        assert supplied == pytest.approx(used, abs=1e-6), row
        assert min(row["grid_import_wh"], row["grid_export_wh"]) == 0
    assert sum(r["production_wh"] for r in rows) > 0 and sum(r["consumption_wh"] for r in rows) > 0
    days = api.data(
        HISTORY,
        {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(), "interval": "DAY"},
        user=user,
    )["energyHistory"]
    assert [d["start"] for d in days] == ["2026-06-22T00:00:00+02:00"]
    in_day = [r for r in rows if start <= r["period_start"] < start + timedelta(days=1)]
    for name in ("production", "consumption", "storage_charge", "storage_discharge", "grid_import", "grid_export"):
        field = "".join(p.capitalize() if i else p for i, p in enumerate(f"{name}_wh".split("_")))
        # Completed hours are stored as ``real`` (7 significant digits; DESIGN.md "History").
        assert days[0][field] == pytest.approx(sum(r[f"{name}_wh"] for r in in_day), rel=1e-6, abs=1e-9)
    hours = api.data(
        HISTORY, {"start": start.isoformat(), "end": (start + timedelta(days=1)).isoformat(), "interval": "HOUR"},
        user=user,
    )["energyHistory"]  # fmt: skip
    assert len(hours) == 24
    assert sum(h["productionWh"] for h in hours) == pytest.approx(days[0]["productionWh"])


def test_history_lives_in_daily_partitions(mixed_home):
    run_tick(NOON)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('hems_home_energy_20260622') IS NOT NULL")
        assert cursor.fetchone()[0]


def test_expired_partitions_are_dropped(mixed_home):
    from hems.simulation import history

    run_tick(NOON - timedelta(days=30))
    run_tick(NOON)
    dropped = history.drop_expired_partitions(NOON.date(), retention_days=7)
    assert dropped == ["hems_home_energy_20260523"]
    assert HomeEnergy.objects.count() == 1


DEVICE_HISTORY = """
query D($id: ID!, $start: DateTime!, $end: DateTime!) {
  device(id: $id) { energyHistory(start: $start, end: $end, interval: HOUR) { start energyWh chargeWh dischargeWh } }
}
"""


def test_a_devices_hourly_history_adds_up_to_its_homes(api, user):
    producer = make_device(user, kind_of("production"))
    start = datetime(2026, 6, 22, 5, 0, tzinfo=UTC)
    for i in range(0, 3 * 60 + 25, 10):
        run_tick(start + timedelta(minutes=i))
    window = {"start": start.isoformat(), "end": (start + timedelta(hours=4)).isoformat()}
    device_hours = api.data(DEVICE_HISTORY, {"id": producer.pk, **window}, user=user)["device"]["energyHistory"]
    home_hours = api.data(HISTORY, {**window, "interval": "HOUR"}, user=user)["energyHistory"]
    assert [h["start"] for h in device_hours] == [h["start"] for h in home_hours]
    assert len(device_hours) == 4
    for mine, home in zip(device_hours, home_hours, strict=True):
        # the home's only producer: its hours are the home's production, the running one included
        assert mine["energyWh"] == pytest.approx(home["productionWh"], rel=1e-6, abs=1e-6)  # the home's: real
        assert mine["chargeWh"] == mine["dischargeWh"] == 0
    assert sum(h["energyWh"] for h in device_hours) > 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM hems_device_energy WHERE device_id = %s", [producer.pk])
        filed = cursor.fetchone()[0]
    # 04:00 (the first tick covers 04:59-05:00), 05:00, 06:00, 07:00 finished (the last one
    # filed, or waiting in the state row for the device's filing minute); 08:00 runs
    waiting = DeviceState.objects.get(pk=producer.pk).closed_hour_start
    assert filed + (waiting is not None) == 4


def test_storage_hours_split_charge_and_discharge(api, user):
    storage = make_device(user, kind_of("storage", auto=True), mode="charging", level_wh=0)
    start = datetime(2026, 6, 22, 5, 0, tzinfo=UTC)
    for i in range(0, 61, 5):
        run_tick(start + timedelta(minutes=i))
    window = {"start": start.isoformat(), "end": (start + timedelta(hours=2)).isoformat()}
    hours = api.data(DEVICE_HISTORY, {"id": storage.pk, **window}, user=user)["device"]["energyHistory"]
    charged = sum(h["chargeWh"] for h in hours)
    assert charged > 0 and sum(h["dischargeWh"] for h in hours) == 0
    assert charged == pytest.approx(sum(h["energyWh"] for h in hours))


def test_configuration_changes_reach_the_next_tick(user):
    """The tick caches configuration between ticks; every kind of change shows up,
    read incrementally where it can be."""
    producer = make_device(user, kind_of("production"))
    run_tick(NOON)
    assert DeviceState.objects.get(pk=producer.pk).power_w > 0
    run_tick(NOON + timedelta(seconds=60))
    before = dict(loader.loads)
    producer.status = "offline"
    producer.save()
    run_tick(NOON + timedelta(minutes=2))
    assert DeviceState.objects.get(pk=producer.pk).power_w == 0
    added = make_device(user, kind_of("consumption"))
    run_tick(NOON + timedelta(minutes=3))
    assert last_simulated(DeviceState.objects.get(pk=added.pk)) == NOON + timedelta(minutes=3)
    assert loader.loads["refreshed"] - before.get("refreshed", 0) == 2
    assert loader.loads["full"] == before.get("full", 0)
    added.delete()
    run_tick(NOON + timedelta(minutes=4))  # a device gone: read whole again, no error
    assert loader.loads["full"] == before.get("full", 0) + 1
    home = user.home
    home.time_zone = "Australia/Sydney"
    home.save()
    run_tick(NOON + timedelta(minutes=5))
    lo, hi = shard_bounds(0)
    assert list(loader._cache[(lo, hi)].homes.time_zone) == ["Australia/Sydney"]


def test_a_device_of_a_user_without_a_home_profile_joins_a_cached_shard(user, django_user_model):
    make_device(user, kind_of("production"))
    run_tick(NOON)
    (bulk,) = django_user_model.objects.bulk_create([django_user_model(username="bulk")])  # no signal, no home
    device = make_device(bulk, kind_of("production"))
    run_tick(NOON + timedelta(minutes=1))
    assert last_simulated(DeviceState.objects.get(pk=device.pk)) == NOON + timedelta(minutes=1)
    assert HomeEnergy.objects.filter(owner_id=bulk.pk).count() == 1


def test_a_shard_read_whole_has_its_devices_whatever_their_ids(settings, django_user_model):
    """Ids are not in owner order (a home adds a device after others' devices): the
    whole read scans each kind between the shard's smallest and largest id, and must
    still find every device of the shard and none of another's."""
    settings.HEMS_TICK_HOMES_PER_SHARD = 100
    near = django_user_model.objects.create(id=10, username="near")
    far = django_user_model.objects.create(id=150, username="far")
    key = kind_of("production")
    made = {near.pk: [make_device(near, key).pk], far.pk: [make_device(far, key).pk]}
    made[near.pk].append(make_device(near, key).pk)  # after the far home's device
    made[far.pk].append(make_device(far, key).pk)
    loader.forget()
    for owner, shard in ((near.pk, 0), (far.pk, 1)):
        _, kinds = loader.load_whole_shard(registry(), *shard_bounds(shard))
        assert sorted(i for rows in kinds for i in rows.ids.tolist()) == made[owner]
    assert loader.id_bounds(*shard_bounds(0)) == (made[near.pk][0], made[near.pk][1])
    assert loader.id_bounds(*shard_bounds(5)) == (0, -1)
    run_tick(NOON)
    assert all(last_simulated(s) == NOON for s in DeviceState.objects.all())
