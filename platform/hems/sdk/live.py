"""Live telemetry in a driver's terms: how a kind's reports decode and its commands encode.

Every kind accepts hems's own JSON payload (:class:`JsonCodec`, docs/live-devices.md);
a driver adds a vendor format by giving its :class:`~hems.sdk.DeviceKind` more
``codecs`` (tried first, in order). A codec is pure: bytes in, a :class:`Report` out
(or :class:`RefusedPayload` with a reason); a command (field, value) in, bytes out.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hems.sdk.types import DeviceType

if TYPE_CHECKING:
    from hems.sdk.kinds import DeviceKind


class RefusedPayload(ValueError):
    """A payload a codec cannot accept; the message is the reason the ingest counts."""


@dataclass(frozen=True)
class Report:
    """One decoded report.

    :ivar time: when the device measured it (timezone-aware).
    :ivar power_w: power now, W (>= 0).
    :ivar flow_w: storage kinds: + charging, - discharging (W).
    :ivar level_wh: storage kinds: stored energy (Wh); None keeps the last level.
    :ivar fields: controllable fields as the device now has them (``{"mode": "idle"}``),
        which confirm the commands sent to it.
    """

    time: datetime
    power_w: float
    flow_w: float | None = None
    level_wh: float | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)


class Codec:
    """A telemetry format. Subclass it and override its methods for a vendor format.

    :cvar name: names the format in the ingest's reasons and logs.
    :cvar topic: where, under the device's own topic root (``hems/v1/<username>/``), the
        format's reports arrive: ``"state"`` for hems's JSON; a vendor's layout such as
        Tasmota's ``"tele/SENSOR"``. The broker's ACL lets each device publish there too.
    :cvar examples: valid payloads as the vendor documents them; the contract kit decodes
        each and checks the result against the kind's bounds.
    :cvar command_topics: where, under the device's topic root, the format's devices
        listen for a command to a field: ``{field: topic}``, the payload being
        :meth:`encode_command`'s (Tasmota: ``{"status": "cmnd/POWER"}``). hems publishes
        there besides hems's JSON on ``command``; the ACL lets the device read it. (1.6)
    :cvar availability_topic: where the format's devices say ``online`` / ``offline``
        (any case; their last will) besides hems's ``availability`` (Tasmota:
        ``"tele/LWT"``), or None. (1.6)
    :cvar fields_topic: where the format's devices say, without a reading, the value
        their controllable fields now have (Tasmota's ``"stat/POWER"``, ``ON`` / ``OFF``
        after every switch), read by :meth:`decode_fields`; such a message confirms the
        commands sent to the device as a report's ``fields`` do. None: the format has
        none. (1.7)
    """

    name = "codec"
    topic = "state"
    examples: tuple[bytes, ...] = ()
    command_topics: Mapping[str, str] = {}
    availability_topic: str | None = None
    fields_topic: str | None = None

    def decode(self, payload: bytes, kind: DeviceKind) -> Report:
        """The report in ``payload``, or raise :class:`RefusedPayload` saying why."""
        raise NotImplementedError

    def encode_command(self, name: str, value: Any, kind: DeviceKind) -> bytes:
        """The payload that asks a device of ``kind`` to set field ``name`` to ``value``."""
        raise NotImplementedError

    def decode_command(self, payload: bytes, kind: DeviceKind) -> tuple[str, Any]:
        """``(name, value)`` of a command payload, as a device (or the emulator) reads it:
        the inverse of :meth:`encode_command`, which the contract kit checks. Raise
        :class:`RefusedPayload` for a payload that is not a command."""
        raise NotImplementedError

    def decode_fields(self, payload: bytes, kind: DeviceKind) -> Mapping[str, Any]:
        """The controllable fields, by name, in a message on :attr:`fields_topic`
        (``{"status": "offline"}``); raise :class:`RefusedPayload` for anything else."""
        raise NotImplementedError


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def number(data: Mapping, key: str, required: bool) -> float | None:
    value = data.get(key)
    if value is None:
        if required:
            raise RefusedPayload(f"{key} is missing")
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise RefusedPayload(f"{key} must be a finite number")
    return float(value)


class JsonCodec(Codec):
    """hems's own payload, which every kind accepts::

        {"time": "2026-12-01T10:02:00+01:00", "powerW": 1250.0}
        {"time": "...", "powerW": 800, "flowW": -800, "levelWh": 5400, "mode": "auto"}

    ``flowW`` is required of storage kinds, ``levelWh`` optional; a controllable field
    (``status``, ``mode``, a kind's ``commands``) in camelCase reports its value now.
    A command is ``{"<field in camelCase>": value}``, for example ``{"mode": "charging"}``.
    """

    name = "hems-json"

    def decode(self, payload: bytes, kind: DeviceKind) -> Report:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            raise RefusedPayload("not JSON") from None
        if not isinstance(data, dict):
            raise RefusedPayload("not a JSON object")
        stamp = data.get("time")
        if not isinstance(stamp, str):
            raise RefusedPayload("time is missing")
        try:
            moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            raise RefusedPayload("time is not ISO 8601") from None
        if moment.tzinfo is None:
            raise RefusedPayload("time has no UTC offset")
        power = number(data, "powerW", required=True)
        if power < 0:
            raise RefusedPayload("powerW must not be negative")
        storage = kind.device_type == DeviceType.STORAGE
        flow = number(data, "flowW", required=storage) if storage else None
        level = number(data, "levelWh", required=False) if storage else None
        fields = {name: data[camel(name)] for name in controllable(kind) if camel(name) in data}
        return Report(time=moment, power_w=power, flow_w=flow, level_wh=level, fields=fields)

    def encode_command(self, name: str, value: Any, kind: DeviceKind) -> bytes:
        return json.dumps({camel(name): value}).encode()

    def decode_command(self, payload: bytes, kind: DeviceKind) -> tuple[str, Any]:
        try:
            data = json.loads(payload)
        except (UnicodeDecodeError, ValueError):
            raise RefusedPayload("not JSON") from None
        names = {camel(name): name for name in controllable(kind)}
        if not isinstance(data, dict) or len(data) != 1 or next(iter(data)) not in names:
            raise RefusedPayload("not a command: one controllable field expected")
        ((key, value),) = data.items()
        return names[key], value


JSON = JsonCodec()


def codecs_of(kind: DeviceKind) -> tuple[Codec, ...]:
    """The formats a kind accepts, its own first; hems's JSON always last."""
    return (*kind.codecs, JSON)


def codecs_for(kind: DeviceKind, topic: str) -> tuple[Codec, ...]:
    """The kind's formats that arrive on ``topic`` (under the device's root), in order."""
    return tuple(codec for codec in codecs_of(kind) if codec.topic == topic)


def availability_topics(kind: DeviceKind) -> tuple[str, ...]:
    """Where a device of the kind may say online / offline: hems's ``availability`` and
    its codecs' own (under the device's root)."""
    own = (codec.availability_topic for codec in kind.codecs if codec.availability_topic)
    return tuple(dict.fromkeys(("availability", *own)))


def fields_codecs(kind: DeviceKind, topic: str) -> tuple[Codec, ...]:
    """The kind's formats whose devices say their fields' values on ``topic``."""
    return tuple(codec for codec in kind.codecs if codec.fields_topic == topic)


def command_payloads(kind: DeviceKind, name: str, value: Any) -> list[tuple[str, bytes]]:
    """``(topic under the device's root, payload)`` of a command to field ``name``:
    hems's JSON on ``command``, then each codec's own where it names a topic for it."""
    found = [("command", JSON.encode_command(name, value, kind))]
    for codec in kind.codecs:
        topic = codec.command_topics.get(name)
        if topic and topic not in (t for t, _ in found):
            found.append((topic, codec.encode_command(name, value, kind)))
    return found


def controllable(kind: DeviceKind) -> tuple[str, ...]:
    """The fields a change of which is sent to a live device as a command: on/off
    (``status``), a storage kind's ``mode``, and the kind's own ``commands``."""
    storage = ("mode",) if kind.device_type == DeviceType.STORAGE else ()
    return ("status", *storage, *(name for name in kind.commands if name not in ("status", "mode")))


def decode(payload: bytes, kind: DeviceKind) -> Report:
    """Try the kind's codecs in order; the first that accepts wins. Raises
    :class:`RefusedPayload` with every codec's reason when none does."""
    reasons = []
    for codec in codecs_of(kind):
        try:
            return codec.decode(payload, kind)
        except RefusedPayload as exc:
            reasons.append(f"{codec.name}: {exc}")
    raise RefusedPayload("; ".join(reasons))
