"""Run by test_device_levels in a process of its own on the embedded SQLite database:
one-minute ticks across hours, each storage device's level after each tick on the
hour, and what the hourly history recorded. Prints JSON."""

import json
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection

from hems.devices.models import DeviceState
from hems.simulation import history
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device

START = datetime(2026, 6, 22, 4, 0, tzinfo=UTC)
user = get_user_model().objects.create_user(username="embedded", password="embedded long passphrase")
devices = [make_device(user, key) for key in kind_keys()]
storage = [d.pk for d in devices if d.device_type == "storage"]
expected = {}
instant = START
while instant <= START + timedelta(hours=2, minutes=1):
    run_tick(instant)
    if instant.minute == 0:
        for pk, level in DeviceState.objects.filter(pk__in=storage).values_list("pk", "level_wh"):
            expected[f"{pk} {(instant - timedelta(hours=1)).isoformat()}"] = level
    instant += timedelta(minutes=1)
with connection.cursor() as cursor:
    # Filed, or ended and waiting in the state row for the device's filing minute.
    cursor.execute(
        "SELECT device_id, hour_start, level_wh FROM hems_device_energy UNION ALL SELECT device_id, "
        "closed_hour_start, closed_level_wh FROM hems_device_state WHERE closed_hour_start IS NOT NULL"
    )
    rows = cursor.fetchall()


def key(pk, hour):
    return f"{pk} {hour.replace(tzinfo=UTC).astimezone(UTC).isoformat()}"


buckets = {}
for pk in storage:
    read = history.device_buckets(pk, START - timedelta(hours=1), START + timedelta(hours=2), "hour", UTC)
    buckets |= {key(pk, hour): bucket["level_wh"] for hour, bucket in read.items()}
print(
    json.dumps(
        {
            "vendor": connection.vendor,
            "storage": storage,
            "expected": expected,
            "recorded": {key(pk, hour): level for pk, hour, level in rows if pk in storage},
            "buckets": buckets,
            "others": sorted({level for pk, _, level in rows if pk not in storage}, key=str),
        }
    )
)
