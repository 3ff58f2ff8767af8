"""An emulated fleet: the drivers' own physics (their ``simulate`` through the tick's
engine, hems.simulation.engine) for some homes, published as live telemetry over MQTT,
so that the ingest, the stats and the history see them as real devices. For demos,
tests and load (``manage.py emulate``, bench/ingest.py).

The emulator reads the homes' devices once, switches them to live and issues their
credentials, then steps its own copy of their state forward (``step_seconds`` of
simulated time a step) and publishes each device's report at each step's instant in
hems's JSON: ``powerW``, and for storage ``flowW`` and ``levelWh``.

Two ways to publish (docs/live-devices.md, "The emulator"):

- as each device, one connection per device with its own credentials: what real
  devices do, what the broker's ACL checks; fine for a few hundred devices;
- ``shared``: one connection with the emulator's login, which the ACL lets publish on
  every device's state topic (only when ``HEMS_MQTT_EMULATOR_PASSWORD`` is set): what a
  load test of hundreds of thousands of devices needs, at the price of not exercising
  per-device authentication.
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import paho.mqtt.client as mqtt
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hems.live import topics
from hems.plugins import registry
from hems.sdk.types import DeviceType, Source
from hems.simulation import engine, loader

logger = logging.getLogger("hems.live.emulator")


def switch_to_live(device_ids: Sequence[int]) -> None:
    """What ``Device.save`` does on a change of source, for many devices at once: live,
    and unavailable until their first report, nothing pending carried over."""
    from hems.devices.models import Device, DeviceState

    now = timezone.now()
    switching = list(Device.objects.filter(pk__in=device_ids).exclude(source=Source.LIVE).values_list("pk", flat=True))
    Device.objects.filter(pk__in=switching).update(source=Source.LIVE, updated_at=now)
    DeviceState.objects.filter(pk__in=switching).update(
        reported_at=None, pending_energy_wh=0.0, pending_charge_wh=0.0, pending_discharge_wh=0.0
    )


def load(owners: Sequence[int]):
    """The homes and their devices (all simulated in this copy), as the tick loads them."""
    owners = np.unique(np.asarray(owners, dtype=np.int64))
    homes, kinds = loader.load_shard(registry(), int(owners[0]), int(owners[-1]) + 1)
    keep = np.isin(homes.owner, owners)
    homes = loader.Homes(**{name: values[keep] for name, values in vars(homes).items()})
    rows = []
    for kind_rows in kinds:
        mine = kind_rows.take(np.flatnonzero(np.isin(kind_rows.owner, owners)))
        if len(mine):
            rows.append(replace(mine, live_source=np.zeros(len(mine), dtype=bool)))
    return homes, rows


def payload(kind, instant: datetime, power_w: float, flow_w: float, level_wh: float) -> bytes:
    body = {"time": instant.isoformat(), "powerW": round(float(power_w), 6)}
    if kind.device_type == DeviceType.STORAGE:
        body["flowW"] = round(float(flow_w), 6)
        if np.isfinite(level_wh):
            body["levelWh"] = round(float(level_wh), 6)
    return json.dumps(body).encode()


class Publisher:
    """MQTT connections publishing with QoS 1; :meth:`flush` waits for the broker's acks."""

    def __init__(self, logins: dict[int, tuple[str, str]], shared: bool = False):
        self.topic = {device_id: topics.topic(username, topics.STATE) for device_id, (username, _) in logins.items()}
        self.pending: list[mqtt.MQTTMessageInfo] = []
        self.lock = threading.Lock()
        if shared:
            client = self.connect(settings.HEMS_MQTT_EMULATOR_USERNAME, settings.HEMS_MQTT_EMULATOR_PASSWORD)
            self.clients = dict.fromkeys(logins, client)
        else:
            self.clients = {device_id: self.connect(*login) for device_id, login in logins.items()}

    def connect(self, username: str, password: str) -> mqtt.Client:
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"emu-{uuid.uuid4().hex[:12]}")
        client.username_pw_set(username, password)
        client.max_inflight_messages_set(100)  # paho's cost per acknowledgement grows with it
        client.max_queued_messages_set(0)
        connected = threading.Event()
        client.on_connect = lambda c, u, flags, code, props: code.is_failure or connected.set()
        client.connect(settings.HEMS_MQTT_HOST, settings.HEMS_MQTT_PORT, keepalive=60)
        client.loop_start()
        if not connected.wait(10):
            client.loop_stop()
            raise ConnectionError(f"the broker refused the emulator's login {username}")
        return client

    def publish(self, device_id: int, body: bytes) -> None:
        info = self.clients[device_id].publish(self.topic[device_id], body, qos=1)
        self.pending.append(info)

    def flush(self, timeout: float = 60.0) -> None:
        for info in self.pending:
            info.wait_for_publish(timeout)
        self.pending.clear()

    def close(self) -> None:
        for client in {id(c): c for c in self.clients.values()}.values():
            client.disconnect()
            client.loop_stop()


class Emulator:
    """Homes stepped forward from ``start`` and published at each step's instant."""

    def __init__(self, owners: Iterable[int], start: datetime, step_seconds: float = 60.0):
        self.instant = start
        self.step = timedelta(seconds=step_seconds)
        self.homes, self.kinds = load(list(owners))
        self.publisher: Publisher | None = None

    @property
    def device_ids(self) -> list[int]:
        return [int(i) for rows in self.kinds for i in rows.ids]

    def go_live(self, shared: bool = False) -> dict[int, tuple[str, str]]:
        """Switch the devices to live, issue their credentials (the broker reloads at the
        commit), and connect."""
        from hems.live.credentials import issue_many

        with transaction.atomic():
            switch_to_live(self.device_ids)
            logins = issue_many(self.device_ids)
        self.publisher = self.connect(logins, shared)
        return logins

    @staticmethod
    def connect(logins, shared: bool, attempts: int = 50) -> Publisher:
        import time

        for attempt in range(attempts):  # the broker reloads its files on SIGHUP, asynchronously
            try:
                return Publisher(logins, shared)
            except ConnectionError:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.1)
        raise AssertionError("unreachable")

    def publish_state(self) -> int:
        """Every device's current state as its report at the current instant."""
        sent = 0
        for rows in self.kinds:
            state = rows.state
            active = rows.online & np.asarray(state.available, dtype=bool)
            for i, device_id in enumerate(rows.ids.tolist()):
                power = state.power_w[i] if active[i] else 0.0
                flow = state.flow_w[i] if active[i] else 0.0
                self.publisher.publish(device_id, payload(rows.kind, self.instant, power, flow, state.level_wh[i]))
                sent += 1
        self.publisher.flush()
        return sent

    def advance(self) -> None:
        """The homes' physics one step on, through the tick's engine."""
        self.instant += self.step
        now = self.instant.timestamp()
        result = engine.simulate_shard(
            self.instant, self.homes, self.kinds, settings.HEMS_TICK_MAX_ELAPSED_HOURS, settings.HEMS_LIVE_STALE_SECONDS
        )
        self.kinds = [
            replace(k.rows, state=k.state, simulated_at=np.where(k.due, now, k.rows.simulated_at), hour=k.hour)
            for k in result.kinds
        ]

    def close(self) -> None:
        if self.publisher is not None:
            self.publisher.close()
