"""Commands to live devices: a user's change of a controllable field (on/off, a storage
mode, a kind's setpoint) is published on the device's command topic after the change
commits, recorded as pending, confirmed when the device reports the new value, failed
when it has not within ``HEMS_LIVE_COMMAND_TIMEOUT_SECONDS``. The configured value is
the device's own field, stored before the command is sent: a failed command never
loses it (the next change, or a re-save, sends it again)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hems.live.topics import COMMAND
from hems.sdk.live import JSON, command_payloads, controllable
from hems.sdk.types import Source

logger = logging.getLogger("hems.live")


def send(device, changed: Iterable[str]) -> list:
    """Record and (after the commit) publish a command per controllable field in
    ``changed`` of a live ``device`` (its kind's model instance, already saved)."""
    from hems.devices.models import DeviceCommand
    from hems.plugins import UnknownKind, registry

    if getattr(device, "source", Source.SIMULATED) != Source.LIVE:
        return []
    try:
        kind = registry().kind(device.kind)
    except UnknownKind:
        return []
    now = timezone.now()
    commands = [
        DeviceCommand(device_id=device.pk, field=name, value=plain(getattr(device, name)), sent_at=now)
        for name in controllable(kind)
        if name in changed
    ]
    if not commands:
        return []
    DeviceCommand.objects.bulk_create(commands)
    # hems's JSON, which every live device accepts on its command topic, and each of the
    # kind's vendor formats on the topic its devices listen on (Tasmota's cmnd/POWER):
    # which format one particular device speaks is not known, only its kind's.
    payloads = [sent for c in commands for sent in outgoing(kind, c.field, c.value)]
    transaction.on_commit(lambda: publish(device.pk, payloads))
    return commands


def outgoing(kind, name: str, value: Any) -> list[tuple[str, bytes]]:
    """``(channel, payload)`` of one command in every format the kind's devices listen
    to; a vendor codec that refuses the field (or fails) is left out, with a log line."""
    try:
        return command_payloads(kind, name, value)
    except Exception as exc:  # a driver's codec must not stop the change the user made
        logger.warning(
            "a codec of %s could not encode %s=%r (%s): sent in hems's JSON only", kind.key, name, value, exc
        )
        return [(COMMAND, JSON.encode_command(name, value, kind))]


def plain(value: Any) -> Any:
    value = getattr(value, "value", value)
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)


def publish(device_id: int, payloads: Sequence[tuple[str, bytes]]) -> bool:
    """Publish ``(channel, payload)`` pairs under the device's topics (its ``command``
    topic, a vendor's such as ``cmnd/POWER``) with hems's service login (QoS 1)."""
    import paho.mqtt.publish as mqtt_publish

    from hems.live import topics
    from hems.live.credentials import username_of

    username = username_of(device_id)
    if username is None:
        logger.warning("device %d has no credentials yet: its command stays pending", device_id)
        return False
    auth = None
    if settings.HEMS_MQTT_SERVICE_PASSWORD:
        auth = {"username": settings.HEMS_MQTT_SERVICE_USERNAME, "password": settings.HEMS_MQTT_SERVICE_PASSWORD}
    messages = [
        {"topic": topics.topic(username, channel), "payload": payload, "qos": 1} for channel, payload in payloads
    ]
    try:
        mqtt_publish.multiple(messages, hostname=settings.HEMS_MQTT_HOST, port=settings.HEMS_MQTT_PORT, auth=auth)
    except Exception as exc:  # the broker down: the command times out and shows failed
        logger.warning("could not publish a command to device %d: %s", device_id, exc)
        return False
    return True


def confirm(reported: Mapping[int, Mapping[str, Any]]) -> int:
    """Pending commands whose value a device now reports are confirmed (one read, one
    update for the whole batch). ``reported``: device id -> fields as reported."""
    from hems.devices.models import CommandState, DeviceCommand

    if not reported:
        return 0
    pending = DeviceCommand.objects.filter(device_id__in=list(reported), state=CommandState.PENDING)
    done = [
        command.pk
        for command in pending.only("pk", "device_id", "field", "value")
        if command.field in reported[command.device_id]
        and same(reported[command.device_id][command.field], command.value)
    ]
    if done:
        DeviceCommand.objects.filter(pk__in=done).update(state=CommandState.CONFIRMED, resolved_at=timezone.now())
    return len(done)


def same(reported: Any, wanted: Any) -> bool:
    if isinstance(wanted, (int, float)) and not isinstance(wanted, bool):
        return isinstance(reported, (int, float)) and abs(float(reported) - float(wanted)) <= 1e-6 * max(
            1.0, abs(float(wanted))
        )
    return str(getattr(reported, "value", reported)).lower() == str(wanted).lower()


def state_of(command, now: datetime | None = None) -> str:
    """pending, confirmed, or failed: a pending command past the timeout has failed."""
    from hems.devices.models import CommandState

    timeout = timedelta(seconds=settings.HEMS_LIVE_COMMAND_TIMEOUT_SECONDS)
    if command.state == CommandState.PENDING and (now or timezone.now()) - command.sent_at > timeout:
        return CommandState.FAILED.value
    return str(command.state)


# Where prefetch_unresolved leaves a device's answer (None is an answer: no command).
PREFETCHED = "_hems_unresolved_command"


def unresolved(device):
    """The device's most recent command not yet confirmed (pending, or failed by now);
    None for a simulated device, without a query, and without one for a device that
    came through :func:`prefetch_unresolved`."""
    from hems.devices.models import CommandState

    if getattr(device, "source", Source.SIMULATED) != Source.LIVE:
        return None
    if hasattr(device, PREFETCHED):
        return getattr(device, PREFETCHED)
    return device.commands.filter(state=CommandState.PENDING).order_by("-sent_at", "-id").first()


def prefetch_unresolved(devices: Sequence) -> None:
    """Answer :func:`unresolved` for every live device of a listing with one query in all
    (none if no device is live): the latest pending command per device, by a window
    over the ``(device, -sent_at)`` index."""
    from django.db.models import F, Window
    from django.db.models.functions import RowNumber

    from hems.devices.models import CommandState, DeviceCommand

    live = [device for device in devices if getattr(device, "source", Source.SIMULATED) == Source.LIVE]
    if not live:
        return
    latest = (
        DeviceCommand.objects.filter(device_id__in=[device.pk for device in live], state=CommandState.PENDING)
        .annotate(
            rank=Window(RowNumber(), partition_by=[F("device_id")], order_by=[F("sent_at").desc(), F("id").desc()])
        )
        .filter(rank=1)
    )
    by_device = {command.device_id: command for command in latest}
    for device in live:
        setattr(device, PREFETCHED, by_device.get(device.pk))
