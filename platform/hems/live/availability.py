"""A live device's availability messages (``online`` / ``offline``, its MQTT last will):
``offline`` makes it unavailable at once, ``online`` available again, a batch at a time.

Going offline, the device's last reported power is counted up to now (never past the
staleness limit, never before the last tick), as a report would have counted it, and
its power and flow drop to zero: nothing is counted while it is away, and a report
after it comes back does not count the gap. Its level stays. Its next report, or
``online``, makes it available again (``hems.live.ingest`` sets ``available`` on every
report). Status and reason follow from ``available`` (``hems.devices.liveness``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hems.sdk.types import Source
from hems.simulation import shardlock

ONLINE, OFFLINE = "online", "offline"


def parse(payload: bytes) -> bool:
    """True for ``online``, False for ``offline`` (any case, surrounding blanks allowed:
    Tasmota sends ``Online`` / ``Offline``); ValueError for anything else."""
    word = payload.decode("utf-8", errors="replace").strip().lower()
    if word not in (ONLINE, OFFLINE):
        raise ValueError("an availability message is online or offline")
    return word == ONLINE


@dataclass
class Changed:
    """What a batch of availability messages changed."""

    went_offline: list[int] = field(default_factory=list)
    came_online: list[int] = field(default_factory=list)
    owners: set[int] = field(default_factory=set)


def apply_availability(device_id: Sequence[int], online: Sequence[bool], now: datetime | None = None) -> Changed:
    """Apply each device's last message of the batch (in the order given) to its state row:
    one locked read and one bulk update. Devices unknown or not live are skipped."""
    from hems.devices.models import DeviceState

    last: dict[int, bool] = {}
    for device, is_online in zip(device_id, online, strict=True):
        last[int(device)] = bool(is_online)
    changed = Changed()
    if not last:
        return changed
    now = now or timezone.now()
    stale = timedelta(seconds=settings.HEMS_LIVE_STALE_SECONDS)
    with transaction.atomic():
        shardlock.lock_for_devices(sorted(last))  # the tick writes these rows back as it read them
        states = list(
            DeviceState.objects.select_for_update(of=("self",))
            .filter(pk__in=sorted(last), device__source=Source.LIVE)
            .order_by("pk")
        )
        dirty = []
        for state in states:
            wanted = last[state.pk]
            if wanted == state.available:
                continue
            if wanted:
                changed.came_online.append(state.pk)
            else:
                count_until(state, now, stale)
                state.power_w = state.flow_w = 0.0
                changed.went_offline.append(state.pk)
            state.available = wanted
            changed.owners.add(state.owner_id)
            dirty.append(state)
        if dirty:
            fields = [
                "available",
                "power_w",
                "flow_w",
                "pending_energy_wh",
                "pending_charge_wh",
                "pending_discharge_wh",
            ]
            DeviceState.objects.bulk_update(dirty, fields, batch_size=2000)
            from hems.live.ingest import after_commit

            owners = set(changed.owners)
            transaction.on_commit(lambda: after_commit(owners))
    return changed


def count_until(state, now: datetime, stale: timedelta) -> None:
    """The last report's power and flow held from that report (or the last tick) to now,
    at most to the staleness limit, into the pending sums the tick takes."""
    if state.reported_at is None:
        return
    start = max(state.reported_at, state.simulated_at or state.reported_at)
    hours = max((min(now, state.reported_at + stale) - start).total_seconds(), 0.0) / 3600.0
    state.pending_energy_wh += max(state.power_w, 0.0) * hours
    state.pending_charge_wh += max(state.flow_w, 0.0) * hours
    state.pending_discharge_wh += max(-state.flow_w, 0.0) * hours
