"""The rolled-up history: the tick's running hour, completed hours and local days give
the same buckets as the per-tick rows they came from, in odd zones and across DST
nights, and keep giving them once the per-tick rows are gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from hems.devices.models import Device, DeviceState, Home
from hems.energy.buckets import floor
from hems.simulation import history
from hems.simulation.models import HomeEnergy
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device
from hems.tests.simulation.test_tick import HISTORY, kind_of

pytestmark = pytest.mark.django_db

FIELDS = {name: "".join(p.capitalize() if i else p for i, p in enumerate(name.split("_"))) for name in history.ENERGY}
NEW_TABLES = (history.RUNNING_TABLE, history.HOUR_TABLE, history.DAY_TABLE, history.DEVICE_DAY_TABLE)
DEVICE_HISTORY = """
query D($id: ID!, $start: DateTime!, $end: DateTime!, $interval: Interval!) {
  device(id: $id) {
    energyHistory(start: $start, end: $end, interval: $interval) { start energyWh chargeWh dischargeWh }
  }
}
"""


def home_in(user, zone: str) -> ZoneInfo:
    home = Home.of(user)
    home.time_zone = zone
    home.save()
    make_device(user, kind_of("production"))
    make_device(user, kind_of("consumption"))
    return ZoneInfo(zone)


def tick_every(start: datetime, end: datetime, step: timedelta) -> None:
    instant = start
    while instant <= end:
        run_tick(instant)
        instant += step


def fine_sums(owner_id: int, interval: str, zone: ZoneInfo, start=None, end=None) -> dict[datetime, dict]:
    """The buckets as the per-tick rows starting in [start, end) give them (keyed by UTC instant)."""
    sums: dict[datetime, dict] = {}
    rows = HomeEnergy.objects.filter(owner_id=owner_id)
    if start is not None:
        rows = rows.filter(period_start__gte=start, period_start__lt=end)
    for row in rows.values():
        bucket = sums.setdefault(
            floor(row["period_start"], interval, zone).astimezone(UTC), dict.fromkeys(history.ENERGY, 0.0)
        )
        for name in history.ENERGY:
            bucket[name] += row[name]
    return sums


def read(api, user, start: datetime, end: datetime, interval: str) -> list[dict]:
    window = {"start": start.isoformat(), "end": end.isoformat(), "interval": interval.upper()}
    return api.data(HISTORY, window, user=user)["energyHistory"]


def assert_buckets_are_the_ticks(buckets: list[dict], expected: dict[datetime, dict]) -> None:
    seen = 0
    for bucket in buckets:
        start = datetime.fromisoformat(bucket["start"]).astimezone(UTC)
        want = expected.get(start, dict.fromkeys(history.ENERGY, 0.0))
        seen += start in expected
        for name, field in FIELDS.items():
            assert bucket[field] == pytest.approx(want[name], rel=1e-6, abs=1e-6), (bucket["start"], name)
        supplied = bucket["productionWh"] + bucket["storageDischargeWh"] + bucket["gridImportWh"]
        used = bucket["consumptionWh"] + bucket["storageChargeWh"] + bucket["gridExportWh"]
        assert supplied == pytest.approx(used, rel=1e-6, abs=1e-3)
    assert seen == len(expected), "every bucket the ticks fill is in the answer"


def approx(answers: dict[str, list[dict]]) -> dict:
    """``answers`` to compare within float rounding (pytest.approx does not nest)."""
    return {
        interval: [{k: v if isinstance(v, str) else pytest.approx(v, rel=1e-6) for k, v in b.items()} for b in buckets]
        for interval, buckets in answers.items()
    }


def drop_the_ticks() -> None:
    """The per-tick window has passed over everything (as dropping its partitions does)."""
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {history.TABLE}")


@pytest.mark.parametrize("zone", ["Asia/Kolkata", "Asia/Kathmandu"])
def test_odd_offset_zones_roll_up_into_their_own_hours_and_days(api, user, zone):
    tz = home_in(user, zone)
    start = datetime(2026, 6, 21, 18, 0, tzinfo=UTC)
    tick_every(start, start + timedelta(hours=30), timedelta(minutes=20))
    first, end = floor(start, "day", tz), start + timedelta(days=2)
    expected = {interval: fine_sums(user.pk, interval, tz) for interval in ("hour", "day", "month")}
    answers = {interval: read(api, user, first, end, interval) for interval in expected}
    for interval, buckets in answers.items():
        assert_buckets_are_the_ticks(buckets, expected[interval])
    # Completed hours sit on the zone's own hour boundaries.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT DISTINCT hour_start FROM {history.HOUR_TABLE} WHERE owner_id = %s", [user.pk])
        minutes = {moment.astimezone(tz).minute for (moment,) in cursor.fetchall()}
    assert minutes == {0}
    drop_the_ticks()
    assert {interval: read(api, user, first, end, interval) for interval in expected} == answers


def test_the_fall_back_night_has_25_hours_each_with_its_own_energy(api, user):
    tz = home_in(user, "Europe/Paris")
    for key in kind_keys():  # every kind: something flows at night
        make_device(user, key)
    day = datetime(2026, 10, 25, tzinfo=tz)  # clocks go back at 03:00 CEST
    end = datetime(2026, 10, 26, tzinfo=tz)
    tick_every(day.astimezone(UTC), end.astimezone(UTC) + timedelta(minutes=20), timedelta(minutes=20))
    hours = read(api, user, day, end, "hour")
    assert len(hours) == 25
    repeated = [h for h in hours if h["start"].startswith("2026-10-25T02:00")]
    assert [h["start"] for h in repeated] == ["2026-10-25T02:00:00+02:00", "2026-10-25T02:00:00+01:00"]
    expected = fine_sums(user.pk, "hour", tz, day, end)
    assert_buckets_are_the_ticks(hours, expected)
    # Two different hours, each its own: not both the sum of the two (nor one of them empty).
    first, second = (expected[datetime.fromisoformat(h["start"]).astimezone(UTC)] for h in repeated)
    assert sum(first.values()) > 0 and sum(second.values()) > 0
    for bucket, own in zip(repeated, (first, second), strict=True):
        assert sum(bucket[field] for field in FIELDS.values()) == pytest.approx(sum(own.values()), rel=1e-6)
    days = read(api, user, day, end, "day")
    assert_buckets_are_the_ticks(days, fine_sums(user.pk, "day", tz, day, end))
    drop_the_ticks()
    assert read(api, user, day, end, "hour") == hours


def test_the_spring_forward_day_has_23_hours(api, user):
    tz = home_in(user, "Europe/Paris")
    day = datetime(2026, 3, 29, tzinfo=tz)
    end = datetime(2026, 3, 30, tzinfo=tz)
    tick_every(day.astimezone(UTC), end.astimezone(UTC) + timedelta(minutes=30), timedelta(minutes=30))
    hours = read(api, user, day, end, "hour")
    assert len(hours) == 23
    assert_buckets_are_the_ticks(hours, fine_sums(user.pk, "hour", tz, day, end))
    week = floor(day, "week", tz)
    assert_buckets_are_the_ticks(read(api, user, week, end, "week"), fine_sums(user.pk, "week", tz, week, end))


def test_an_outage_is_attributed_like_the_ticks(api, user):
    tz = home_in(user, "Europe/Berlin")
    start = datetime(2026, 6, 22, 8, 0, tzinfo=UTC)
    for instant in (start, start + timedelta(minutes=20), start + timedelta(hours=3, minutes=50)):
        run_tick(instant)
    tick_every(start + timedelta(hours=4), start + timedelta(hours=5), timedelta(minutes=20))
    window = (floor(start, "day", tz), start + timedelta(hours=6))
    expected = {interval: fine_sums(user.pk, interval, tz) for interval in ("hour", "day")}
    assert len(expected["hour"]) == 5  # 08:00 and (the gap's span starts at 09:50) 09:00, then 10:00 to 12:00 UTC
    for interval, sums in expected.items():
        assert_buckets_are_the_ticks(read(api, user, *window, interval), sums)
    drop_the_ticks()
    for interval, sums in expected.items():
        assert_buckets_are_the_ticks(read(api, user, *window, interval), sums)


def test_a_regular_tick_adds_to_the_running_hour_and_the_hour_tick_completes_it(user):
    home_in(user, "Europe/Berlin")
    start = datetime(2026, 6, 22, 8, 0, tzinfo=UTC)
    tick_every(start + timedelta(minutes=20), start + timedelta(minutes=40), timedelta(minutes=20))
    running = history.running_hour(user.pk)
    assert running[0] == start  # the ticks' spans started at 08:19 and 08:20, in hour 08:00
    assert HomeEnergy.objects.count() == 2
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {history.HOUR_TABLE}")
        assert cursor.fetchone()[0] == 0
    run_tick(start + timedelta(hours=1))  # its span starts at 08:40: still hour 08:00
    run_tick(start + timedelta(hours=1, minutes=20))  # span from 09:00: hour 08:00 completes
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hour_start, consumption_wh FROM {history.HOUR_TABLE}")
        [(hour, consumption)] = cursor.fetchall()
    assert hour == start
    ticks = HomeEnergy.objects.filter(period_start__lt=start + timedelta(hours=1))
    assert consumption == pytest.approx(sum(t.consumption_wh for t in ticks), rel=1e-6)
    assert history.running_hour(user.pk)[0] == start + timedelta(hours=1)


def test_device_days_come_from_day_rows_equal_to_the_hours(api, user):
    tz = home_in(user, "Asia/Kolkata")
    producer = Device.objects.filter(owner=user).order_by("pk").first()
    start = datetime(2026, 6, 21, 16, 0, tzinfo=UTC)  # 21:30 in Kolkata
    tick_every(start, start + timedelta(hours=10), timedelta(minutes=20))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hour_start, energy_wh FROM {history.DEVICE_TABLE} WHERE device_id = %s", [producer.pk])
        hours = cursor.fetchall()
    by_day: dict[datetime, float] = {}
    for hour, energy in hours:
        key = floor(hour, "day", tz).astimezone(UTC)
        by_day[key] = by_day.get(key, 0.0) + energy
    state = DeviceState.objects.get(pk=producer.pk)
    current = floor(state.hour_start, "day", tz).astimezone(UTC)
    by_day[current] = by_day.get(current, 0.0) + state.hour_energy_wh
    if state.closed_hour_start is not None:  # ended, waiting for the device's filing minute
        waiting = floor(state.closed_hour_start, "day", tz).astimezone(UTC)
        by_day[waiting] = by_day.get(waiting, 0.0) + state.closed_energy_wh
    window = {"id": producer.pk, "start": floor(start, "day", tz).isoformat(), "end": (start + timedelta(days=1))}
    window["end"] = window["end"].isoformat()
    days = api.data(DEVICE_HISTORY, {**window, "interval": "DAY"}, user=user)["device"]["energyHistory"]
    assert len(days) == 2 and min(by_day.values()) > 0
    for day in days:
        want = by_day[datetime.fromisoformat(day["start"]).astimezone(UTC)]
        assert day["energyWh"] == pytest.approx(want, rel=1e-9)
    # Past the hourly window, the days before the current one still answer.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {history.DEVICE_TABLE} WHERE hour_start < %s", [current])
    again = api.data(DEVICE_HISTORY, {**window, "interval": "DAY"}, user=user)["device"]["energyHistory"]
    assert again == days


def new_rows(owner_id: int, device_ids: list[int]) -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in NEW_TABLES:
            column, ids = ("device_id", device_ids) if table == history.DEVICE_DAY_TABLE else ("owner_id", [owner_id])
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {column} = ANY(%s)", [ids])
            counts[table] = cursor.fetchone()[0]
    return counts


def test_erasure_removes_the_rolled_up_rows(user, other_user, settings):
    settings.HEMS_DEVICE_HOUR_FILING_MINUTES = 1  # every device's hour filed (into its day) at once
    for owner in (user, other_user):
        home_in(owner, "Europe/Berlin")
    tick_every(
        datetime(2026, 6, 22, 7, 40, tzinfo=UTC), datetime(2026, 6, 22, 8, 20, tzinfo=UTC), timedelta(minutes=20)
    )
    mine = list(Device.objects.filter(owner=user).values_list("pk", flat=True))
    theirs = list(Device.objects.filter(owner=other_user).values_list("pk", flat=True))
    assert all(new_rows(user.pk, mine).values())
    before = new_rows(other_user.pk, theirs)
    Device.objects.get(pk=mine[0]).delete()
    assert new_rows(user.pk, mine[:1])[history.DEVICE_DAY_TABLE] == 0
    user.delete()
    assert not any(new_rows(user.pk, mine).values())
    assert new_rows(other_user.pk, theirs) == before


def test_the_data_migration_rolls_existing_ticks_up(api, user):
    tz = home_in(user, "Asia/Kathmandu")
    start = datetime(2026, 6, 22, 3, 0, tzinfo=UTC)
    tick_every(start, start + timedelta(hours=4), timedelta(minutes=20))
    window = (floor(start, "day", tz), start + timedelta(days=1))
    answers = {interval: read(api, user, *window, interval) for interval in ("hour", "day")}
    producer = Device.objects.filter(owner=user).order_by("pk").first()
    device_window = {"id": producer.pk, "start": window[0].isoformat(), "end": window[1].isoformat()}
    device_days = api.data(DEVICE_HISTORY, {**device_window, "interval": "DAY"}, user=user)
    with connection.cursor() as cursor:  # as before migration 0005: only the fine and hourly rows
        for table in NEW_TABLES:
            cursor.execute(f"DELETE FROM {table}")
    assert read(api, user, *window, "day")[0]["consumptionWh"] == 0
    migration = __import__("hems.simulation.migrations.0005_history_rollup", fromlist=["roll_up_postgres"])
    migration.roll_up_postgres(connection)
    assert {interval: read(api, user, *window, interval) for interval in answers} == approx(answers)
    assert api.data(DEVICE_HISTORY, {**device_window, "interval": "DAY"}, user=user) == device_days
    drop_the_ticks()
    assert {interval: read(api, user, *window, interval) for interval in answers} == approx(answers)


def test_maintenance_keeps_each_table_its_own_retention(settings, user):
    from hems.simulation.tasks import maintain_history

    home_in(user, "Europe/Berlin")
    old = datetime(2023, 1, 10, 8, 0, tzinfo=UTC)
    tick_every(old, old + timedelta(hours=1, minutes=20), timedelta(minutes=20))
    settings.HEMS_HISTORY_RETENTION_DAYS = 400
    from freezegun import freeze_time

    with freeze_time("2024-06-01 00:30:00"):
        dropped = maintain_history()
    assert "hems_home_energy_20230110" in dropped  # the tick window: days
    assert "hems_home_energy_hour_202301" in dropped  # the hours: months
    assert "hems_home_energy_day_2023" not in dropped  # the days: years, the year is not wholly past
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('hems_home_energy_hour_202406') IS NOT NULL")
        assert cursor.fetchone()[0]


def test_the_embedded_mode_rolls_up_the_same_on_sqlite(tmp_path):
    """The portable roll-up, on the embedded mode's SQLite (a process of its own: this
    run's database is PostgreSQL), migrated from scratch."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[4]
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HEMS_HTTPS"}}
    env |= {"HEMS_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "hems.settings", "LOG_LEVEL": "WARNING"}
    manage = [sys.executable, str(root / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=root, check=True, capture_output=True)
    script = Path(__file__).with_name("rollup_script.py").read_text()
    done = subprocess.run([*manage, "shell", "-c", script], env=env, cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["vendor"] == "sqlite"
    for interval in ("hour", "day"):
        fine = {key: value for key, value in result["fine"][interval].items() if value}
        assert len(fine) >= (2 if interval == "day" else 5)
        for answer in (result["rolled"][interval], result["rolled_after"][interval]):
            assert {key: value for key, value in answer.items() if value} == pytest.approx(fine, rel=1e-6)
    assert any(len(days) == 2 for days in result["device_days"].values())


def test_the_flows_past_the_tick_window_come_from_the_hours(user):
    from hems.dashboard.admin_chart import chart_context
    from hems.dashboard.flows import home_flows

    tz = home_in(user, "Europe/Berlin")
    start = datetime(2026, 6, 22, 6, 0, tzinfo=UTC)
    tick_every(start, start + timedelta(hours=3), timedelta(minutes=20))
    day = (floor(start, "day", tz), floor(start, "day", tz) + timedelta(days=1))
    before = home_flows(user.pk, *day)
    assert before.totals["production"] > 0
    with connection.cursor() as cursor:  # the window has passed over the first two hours
        cursor.execute(f"DELETE FROM {history.TABLE} WHERE period_start < %s", [start + timedelta(hours=1, minutes=30)])
    after = home_flows(user.pk, *day)
    assert after.totals == pytest.approx(before.totals, rel=1e-6)
    assert sum(after.links.values()) == pytest.approx(sum(before.links.values()), rel=1e-6)
    drop_the_ticks()
    assert chart_context(user)["chart"]["flows"]["totals"] == pytest.approx(before.totals, rel=1e-6)


def test_a_closed_months_hour_index_is_packed_once(api, user):
    tz = home_in(user, "Europe/Berlin")
    start = datetime(2026, 5, 31, 20, 0, tzinfo=UTC)
    tick_every(start, start + timedelta(hours=2), timedelta(minutes=30))
    window = (floor(start, "day", tz), start + timedelta(days=1))
    before = read(api, user, *window, "hour")
    assert history.compact_closed_partitions(datetime(2026, 6, 2).date()) == ["hems_home_energy_hour_202605"]
    assert history.compact_closed_partitions(datetime(2026, 6, 2).date()) == []  # once
    with connection.cursor() as cursor:
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = 'hems_home_energy_hour_202605_pkey'")
        assert cursor.fetchone()[0] == ["fillfactor=100"]
    assert read(api, user, *window, "hour") == before


def test_a_trace_of_energy_completes_its_hour_as_zero(user):
    """A running hour holding 1e-40 Wh (float arithmetic leaves such traces) must not
    fail the tick: ``real`` cannot hold it, PostgreSQL would refuse it as an underflow."""
    home_in(user, "Europe/Paris")
    start = datetime(2026, 6, 21, 10, 58, tzinfo=UTC)
    run_tick(start)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {history.RUNNING_TABLE} SET " + ", ".join(f"{name} = 1e-40" for name in history.ENERGY)
            + " WHERE owner_id = %s",
            [user.pk],
        )  # fmt: skip
    run_tick(start + timedelta(minutes=1))
    run_tick(start + timedelta(minutes=3))
    run_tick(start + timedelta(minutes=4))  # its span starts in the next hour: 10:00 completes
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(history.ENERGY)} FROM {history.HOUR_TABLE} WHERE owner_id = %s AND hour_start = %s",
            [user.pk, datetime(2026, 6, 21, 10, tzinfo=UTC)],
        )
        row = cursor.fetchone()
    assert row is not None and row[0] > 0  # the production of the 10:59 tick
    assert row[4] == 0.0 or row[4] > 1e-30  # the trace became 0, the rest is intact
