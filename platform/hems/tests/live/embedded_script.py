"""Run by test_embedded in a process of its own on the embedded SQLite database: a live
device's reports through apply_reports' portable path, then the tick. Prints JSON."""

import json
from datetime import UTC, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import connection

from hems.devices.models import DeviceState
from hems.live.availability import apply_availability
from hems.live.ingest import apply_reports
from hems.plugins import registry
from hems.sdk import CEILING
from hems.simulation.models import HomeEnergy
from hems.simulation.tick import run_tick
from hems.tests.factories import make_device

T0 = datetime(2026, 6, 22, 10, 20, tzinfo=UTC)
user = get_user_model().objects.create_user(username="embedded", password="embedded long passphrase")
key = next(k for k, kind in sorted(registry().kinds.items()) if kind.device_type == "production")
meter = make_device(user, key, source="live")
run_tick(T0)
later = T0 + timedelta(hours=1)
first = apply_reports([meter.pk], [T0.timestamp()], [1000.0], now=later)
second = apply_reports([meter.pk, meter.pk], [T0.timestamp() + 30, T0.timestamp() + 30], [2000.0, 5.0], now=later)
pending = DeviceState.objects.get(pk=meter.pk).pending_energy_wh
run_tick(T0 + timedelta(minutes=1))
state = DeviceState.objects.get(pk=meter.pk)
# Above any device's own limit (the core's ceiling at most); then its last will.
above = apply_reports([meter.pk], [T0.timestamp() + 90], [CEILING * 2], now=later)
went = apply_availability([meter.pk], [False], now=T0 + timedelta(seconds=100)).went_offline
after = DeviceState.objects.get(pk=meter.pk)
print(
    json.dumps(
        {
            "vendor": connection.vendor,
            "first": first.refused.tolist(),
            "second": second.refused.tolist(),
            "pending": pending,
            "power_w": state.power_w,
            "hour_energy_wh": state.hour_energy_wh,
            "above": above.refused.tolist(),
            "went_offline": went == [meter.pk],
            "offline": [after.available, after.power_w, after.pending_energy_wh],
            "production_wh": HomeEnergy.objects.get(period_end=T0 + timedelta(minutes=1)).production_wh,
        }
    )
)
