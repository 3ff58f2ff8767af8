"""End to end: a home emulated over MQTT (the drivers' physics through the tick's engine,
published with each device's own credentials to a real Mosquitto), taken in by the
ingest process and counted by the tick, gives the same energyStats and the same day's
history as the same home simulated directly by the tick.

Over a short simulated span at chosen instants (a step a minute, across an hour), not
a day of waiting: the emulator steps its own clock; the tick runs at the same instants.

Tolerance: energyStats match (to float rounding): the last reports are the last
simulated state. The history differs by how a minute's energy is sampled: a simulated
device's energy over a minute is its power at the minute's end held over it, a live
device's is its report at the minute's start held until the next. Over any span the two
differ by at most one step of each device's power at its ends (the sums telescope), so
each hour's figure may differ by the largest power of the devices it sums (production's
of the producers, the grid's of all), held for one minute, and no more.
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from freezegun import freeze_time

from hems.devices.models import DeviceState
from hems.energy import cache
from hems.live.emulator import Emulator
from hems.plugins import registry
from hems.simulation import loader
from hems.simulation.tick import run_tick
from hems.tests.factories import make_device
from hems.tests.live.processes import Broker, Ingest
from hems.tests.live.test_ingest import kind_of

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto is not installed"),
]

T0 = datetime(2026, 6, 22, 10, 50, tzinfo=UTC)  # 12:50 in Berlin: the span crosses 13:00
STEPS = 20
STEP = timedelta(minutes=1)
# Which devices' power a history figure sums (the grid's: all of them).
TYPES = {"productionWh": "production", "consumptionWh": "consumption", "storageChargeWh": "storage",
         "storageDischargeWh": "storage"}  # fmt: skip
FIELDS = ("productionWh", "consumptionWh", "storageChargeWh", "storageDischargeWh", "gridImportWh", "gridExportWh")

QUERY = """query($start: DateTime!, $end: DateTime!) {
  energyStats { currentProduction currentConsumption currentStorageFlow netGridFlow
                currentStorage { totalCapacityWh currentLevelWh percentage } }
  energyHistory(start: $start, end: $end, interval: HOUR) {
    start productionWh consumptionWh storageChargeWh storageDischargeWh gridImportWh gridExportWh }
  allDevices { id powerW ... on StorageDevice { levelWh flowW } }
}"""


def observe(api, user) -> dict:
    day = {"start": (T0 - timedelta(hours=12)).isoformat(), "end": (T0 + timedelta(hours=12)).isoformat()}
    with freeze_time(T0 + STEPS * STEP + timedelta(seconds=1)):
        return api.data(QUERY, day, user=user)


def wait_reported(ids, instant, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    while DeviceState.objects.filter(pk__in=ids, reported_at=instant).count() < len(ids):
        if time.monotonic() > deadline:
            raise AssertionError(f"the ingest did not store the reports at {instant}")
        time.sleep(0.05)


def test_a_home_emulated_over_mqtt_and_ingested_matches_it_simulated_directly(api, user, tmp_path, settings):
    consumers = [key for key, kind in sorted(registry().kinds.items()) if kind.device_type == "consumption"]
    devices = [
        make_device(user, kind_of("production")),
        *(make_device(user, key) for key in consumers),
        make_device(user, kind_of("storage", auto=True), mode="auto", level_wh=2000),
    ]
    ids = [d.pk for d in devices]
    with freeze_time(T0):
        run_tick(T0)  # where both runs start

    # The home simulated directly, then undone. Each device's largest power at the
    # instants both runs sample, T0's included: the live run holds T0's report over the
    # first minute, so an appliance running then and stopped a minute later counts there.
    largest = dict.fromkeys(ids, 0.0)

    def sample() -> None:
        for s in DeviceState.objects.filter(pk__in=ids):
            largest[s.pk] = max(largest[s.pk], s.power_w, abs(s.flow_w))

    sample()
    with transaction.atomic():
        for i in range(1, STEPS + 1):
            with freeze_time(T0 + i * STEP):
                run_tick(T0 + i * STEP)
            sample()
        direct = observe(api, user)
        transaction.set_rollback(True)
    loader.forget()
    cache.changed_many([user.pk])

    # The same home emulated: published as live devices, ingested by the process.
    broker = Broker(tmp_path, settings)
    broker.start()
    ingest = Ingest(tmp_path, broker.port, HEMS_INGEST_BATCH_SECONDS="0.02")
    emulator = None
    try:
        ingest.start()
        emulator = Emulator([user.pk], start=T0)
        emulator.go_live()
        assert sorted(emulator.device_ids) == sorted(ids)
        emulator.publish_state()
        wait_reported(ids, T0)
        for i in range(1, STEPS + 1):
            emulator.advance()
            emulator.publish_state()
            wait_reported(ids, T0 + i * STEP)
            with freeze_time(T0 + i * STEP):
                run_tick(T0 + i * STEP)
        emulated = observe(api, user)
        assert ingest.status()["refused"] == {}
    finally:
        if emulator:
            emulator.close()
        ingest.stop()
        broker.stop()

    assert flat(emulated["energyStats"]) == pytest.approx(flat(direct["energyStats"]), rel=1e-9, abs=1e-6)
    for live, simulated in zip(by_id(emulated), by_id(direct), strict=True):
        assert live.pop("id") == simulated.pop("id") and live == pytest.approx(simulated, rel=1e-9, abs=1e-6)
    step_h = STEP.total_seconds() / 3600
    held = {t: sum(largest[d.pk] for d in devices if d.device_type == t) * step_h for t in TYPES.values()}
    tolerance = {name: held[TYPES[name]] if name in TYPES else sum(held.values()) for name in FIELDS}
    assert [b["start"] for b in emulated["energyHistory"]] == [b["start"] for b in direct["energyHistory"]]
    assert len(direct["energyHistory"]) >= 2  # the span crosses an hour
    for live, simulated in zip(emulated["energyHistory"], direct["energyHistory"], strict=True):
        for name in FIELDS:
            assert live[name] == pytest.approx(simulated[name], abs=tolerance[name] + 1e-6), (live["start"], name)
    # Not vacuous: the sun at noon gives many times the tolerance, and storage takes it in.
    assert sum(b["productionWh"] for b in direct["energyHistory"]) > 5 * tolerance["productionWh"]
    assert sum(b["storageChargeWh"] + b["gridExportWh"] for b in direct["energyHistory"]) > 0


def flat(stats: dict) -> dict:
    return {**{k: v for k, v in stats.items() if not isinstance(v, dict)}, **stats["currentStorage"]}


def by_id(answer: dict) -> list[dict]:
    return sorted(answer["allDevices"], key=lambda d: d["id"])


def test_manage_py_emulate_seeds_homes_and_publishes_their_steps(tmp_path, settings):
    from io import StringIO

    from django.core.management import call_command

    from hems.devices.models import Device

    broker = Broker(tmp_path, settings)
    broker.start()
    ingest = Ingest(tmp_path, broker.port)
    try:
        ingest.start()
        out = StringIO()
        start = T0 + timedelta(days=30)
        call_command("emulate", homes=2, devices_per_home=3, start=start, steps=2, speed=0, stdout=out)
        devices = Device.objects.filter(owner__username__startswith="emu")
        assert devices.count() == 6 and set(devices.values_list("source", flat=True)) == {"live"}
        ids = list(devices.values_list("pk", flat=True))
        wait_reported(ids, start + 2 * STEP)
        assert "6 live device(s)" in out.getvalue()
    finally:
        ingest.stop()
        broker.stop()
