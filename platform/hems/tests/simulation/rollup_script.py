"""Run by test_rollup in a process of its own on the embedded SQLite database: ticks
across hours and a local midnight in a half-hour zone, then the buckets as the
rolled-up history gives them (before and after the per-tick rows go) and as the
per-tick rows sum. Prints JSON."""

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection

from hems.devices.models import Home
from hems.energy.buckets import floor
from hems.simulation import history
from hems.simulation.models import HomeEnergy
from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device

ZONE = ZoneInfo("Asia/Kolkata")
START = datetime(2026, 6, 21, 16, 0, tzinfo=UTC)  # 21:30 local
END = START + timedelta(hours=5)
user = get_user_model().objects.create_user(username="embedded", password="embedded long passphrase")
home = Home.of(user)
home.time_zone = ZONE.key
home.save()
devices = [make_device(user, key) for key in kind_keys()]
instant = START
while instant <= END:
    run_tick(instant)
    instant += timedelta(minutes=20)


def fine(interval):
    sums = {}
    for row in HomeEnergy.objects.filter(owner_id=user.pk).values():
        key = floor(row["period_start"], interval, ZONE).astimezone(UTC).isoformat()
        sums[key] = sums.get(key, 0.0) + row["consumption_wh"] + row["production_wh"]
    return sums


def rolled(interval):
    first = floor(START, "day", ZONE)
    read = history.buckets(user.pk, first, END + timedelta(days=1), interval, ZONE)
    return {key.isoformat(): b["consumption_wh"] + b["production_wh"] for key, b in read.items()}


def device_days():
    first = floor(START, "day", ZONE)
    days = {}
    for device in devices:
        state = device.__class__.objects.get(pk=device.pk).state
        read = history.device_buckets(device.pk, first, END, "day", ZONE, current_hour=state.hour_start)
        days[str(device.pk)] = {key.isoformat(): b["energy_wh"] for key, b in read.items()}
    return days


answer = {"vendor": connection.vendor, "fine": {i: fine(i) for i in ("hour", "day")}}
answer["rolled"] = {i: rolled(i) for i in ("hour", "day")}
answer["device_days"] = device_days()
with connection.cursor() as cursor:
    cursor.execute(f"DELETE FROM {history.TABLE}")
answer["rolled_after"] = {i: rolled(i) for i in ("hour", "day")}
print(json.dumps(answer))
