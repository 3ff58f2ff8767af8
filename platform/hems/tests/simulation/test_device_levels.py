"""A storage device's level at the end of each hour is recorded by the tick in the
hourly device history, and read back as recorded by the API and the dashboard."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from freezegun import freeze_time

from hems.dashboard.periods import period
from hems.dashboard.series import storage_levels
from hems.devices.models import DeviceState
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device, storage_kind_keys

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[4]
SCRIPT = Path(__file__).with_name("device_levels_script.py")
BERLIN = ZoneInfo("Europe/Berlin")
START = datetime(2026, 6, 22, 4, 0, tzinfo=UTC)  # a Monday, 06:00 in Berlin
END = START + timedelta(hours=3, minutes=1)
HOURLY = """
query D($id: ID!, $start: DateTime!, $end: DateTime!, $interval: Interval!) {
  device(id: $id) { energyHistory(start: $start, end: $end, interval: $interval) { start chargeWh levelWh } }
}
"""


def tick_every_minute(start: datetime, end: datetime, storage: list[int]) -> dict[tuple[int, datetime], float]:
    """One-minute ticks over [start, end]; the level of each storage device after each
    tick on the hour, keyed by (device, start of the hour that tick ended)."""
    at_hour_end = {}
    instant = start
    while instant <= end:
        run_tick(instant)
        if instant.minute == 0:
            for pk, level in DeviceState.objects.filter(pk__in=storage).values_list("pk", "level_wh"):
                at_hour_end[(pk, instant - timedelta(hours=1))] = level
        instant += timedelta(minutes=1)
    return at_hour_end


def recorded_hours() -> dict[tuple[int, datetime], float | None]:
    with connection.cursor() as cursor:
        # Filed, or ended and waiting in the state row for the device's filing minute.
        cursor.execute(
            "SELECT device_id, hour_start, level_wh FROM hems_device_energy UNION ALL SELECT device_id, "
            "closed_hour_start, closed_level_wh FROM hems_device_state WHERE closed_hour_start IS NOT NULL"
        )
        return {(device, hour.astimezone(UTC)): level for device, hour, level in cursor.fetchall()}


def test_the_tick_records_each_storage_level_at_the_hour_end(api, user):
    devices = [make_device(user, key) for key in kind_keys()]
    storage = [d.pk for d in devices if d.device_type == "storage"]
    assert storage and len(storage) < len(devices)
    expected = tick_every_minute(START, END, storage)
    recorded = recorded_hours()
    # 05:00 (the first tick's span began in it), 06:00, 07:00, 08:00 (Berlin) closed; 09:00 runs.
    closed = [START + timedelta(hours=h) for h in range(-1, 3)]
    for pk in storage:
        for hour in closed:
            assert recorded[(pk, hour)] == pytest.approx(expected[(pk, hour)], abs=1e-6), (pk, hour)
        assert (pk, START + timedelta(hours=3)) not in recorded  # under way, in the state row
    assert all(level is None for (pk, _), level in recorded.items() if pk not in storage)
    # Levels move over these hours: the comparison above is not of constants.
    assert any(expected[(pk, closed[0])] != expected[(pk, closed[-1])] for pk in storage)

    with freeze_time(END + timedelta(seconds=5)):
        for pk in storage:
            state = DeviceState.objects.get(pk=pk)
            window = {"id": pk, "start": START.isoformat(), "end": (START + timedelta(hours=4)).isoformat()}
            hours = api.data(HOURLY, {**window, "interval": "HOUR"}, user=user)["device"]["energyHistory"]
            assert [h["levelWh"] for h in hours[:3]] == pytest.approx([expected[(pk, hour)] for hour in closed[1:]])
            assert hours[3]["levelWh"] == pytest.approx(state.level_wh)  # the hour under way: the level now
            day = {**window, "start": "2026-06-22T00:00:00+02:00", "end": "2026-06-24T00:00:00+02:00"}
            today, tomorrow = api.data(HOURLY, {**day, "interval": "DAY"}, user=user)["device"]["energyHistory"]
            assert today["levelWh"] == pytest.approx(state.level_wh) and tomorrow["levelWh"] is None
            early = {**window, "end": (START + timedelta(hours=2)).isoformat()}
            (closed_day,) = api.data(HOURLY, {**early, "interval": "DAY"}, user=user)["device"]["energyHistory"]
            assert closed_day["levelWh"] == pytest.approx(expected[(pk, START + timedelta(hours=1))])  # last hour
        others = [d.pk for d in devices if d.pk not in storage]
        hours = api.data(HOURLY, {**window, "id": others[0], "interval": "HOUR"}, user=user)["device"]
        assert all(h["levelWh"] is None for h in hours["energyHistory"])

        drawn = storage_levels(user.pk, period("day", "2026-06-22", BERLIN, END + timedelta(seconds=5)))
    (shown,) = [level for level in drawn if int(level["id"]) == storage[0]]
    local_hours = [5, 6, 7, 8]  # Berlin
    assert [shown["wh"][h] for h in local_hours] == pytest.approx([expected[(storage[0], h)] for h in closed])
    assert shown["wh"][9] == pytest.approx(DeviceState.objects.get(pk=storage[0]).level_wh)
    assert shown["wh"][:5] == [None] * 5 and shown["estimated"] is False  # 05:00 is the first recorded hour


def test_an_idle_storage_hour_is_recorded_with_its_level(user):
    """No energy through it in an hour (switched offline): the hour's row still carries its level."""
    device = make_device(user, storage_kind_keys()[0], status="offline")
    for minutes in (0, 1, 60, 61):  # the hours of 03:00 and 04:00 UTC close, with no energy
        run_tick(START + timedelta(minutes=minutes))
    level = DeviceState.objects.get(pk=device.pk).level_wh
    recorded = recorded_hours()
    assert recorded[(device.pk, START - timedelta(hours=1))] == recorded[(device.pk, START)] == level > 0
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT energy_wh, charge_wh, discharge_wh FROM hems_device_energy UNION ALL SELECT closed_energy_wh, "
            "closed_charge_wh, closed_discharge_wh FROM hems_device_state WHERE closed_hour_start IS NOT NULL"
        )
        assert cursor.fetchall() == [(0.0, 0.0, 0.0)] * 2


def test_the_embedded_mode_records_the_same_levels_on_sqlite(tmp_path):
    """The portable writer path, on the embedded mode's SQLite (a process of its own:
    this run's database is PostgreSQL), migrated from scratch."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HEMS_HTTPS"}}
    env |= {"HEMS_DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "hems.settings", "LOG_LEVEL": "WARNING"}
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True, capture_output=True)
    done = subprocess.run(
        [*manage, "shell", "-c", SCRIPT.read_text()], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["vendor"] == "sqlite"
    assert len(result["expected"]) >= 2 * len(result["storage"]) > 0
    for key, level in result["expected"].items():
        assert result["recorded"][key] == pytest.approx(level, abs=1e-3), key  # SQLite REAL: 8 bytes, to be safe
        assert result["buckets"][key] == pytest.approx(level, abs=1e-3), key
    assert result["others"] == [None]
