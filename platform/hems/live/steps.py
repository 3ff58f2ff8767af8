"""The ingest's steps before the write, each a plain function or a small object, each
testable alone: route (topic -> login and channel), decode (the kind's codec), validate
(the kind's bounds), limit (a device's report rate). A report stops at the first step
that refuses it, raising :class:`Refused` with the reason the ingest counts.

The write itself (device known and live, time newer than its last report, not in the
future, a level within the capacity) is ``hems.live.ingest.apply_reports``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hems.live import topics
from hems.sdk.bounds import CEILING, upper_bound
from hems.sdk.live import RefusedPayload, codecs_for, controllable, fields_codecs
from hems.sdk.types import DeviceType

# Reasons of the steps here (the write's are in hems.live.ingest).
NOT_A_DEVICE_TOPIC = "not a device topic"
UNDECODABLE = "undecodable"
OUT_OF_BOUNDS = "out of bounds"
FLOODING = "flooding"


class Refused(Exception):
    """A report refused by a step: ``reason`` is what is counted, ``detail`` what is logged."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Reading:
    """A decoded, validated report, ready for the batch (times as seconds since 1970)."""

    time: float
    power_w: float
    flow_w: float
    level_wh: float
    fields: dict[str, Any] | None


def route(topic: str) -> tuple[str, str]:
    """``(username, channel)`` of a device topic (``hems/v1/<username>/<channel...>``)."""
    head, _, rest = topic.partition(topics.prefix() + "/")
    username, _, channel = rest.partition("/")
    if head or not username or not channel or "+" in topic or "#" in topic:
        raise Refused(NOT_A_DEVICE_TOPIC, topic)
    return username, channel


def decode(payload: bytes, kind, channel: str):
    """The report in ``payload`` through the kind's codecs for this channel (first that
    accepts). Every codec's reason goes into the detail."""
    codecs = codecs_for(kind, channel)
    if not codecs:
        raise Refused(NOT_A_DEVICE_TOPIC, f"no format of {kind.key} arrives on {channel}")
    reasons = []
    for codec in codecs:
        try:
            return codec.decode(payload, kind)
        except RefusedPayload as exc:
            reasons.append(f"{codec.name}: {exc}")
        except Exception as exc:  # a driver's bug must not stop the ingest
            reasons.append(f"{codec.name} failed: {type(exc).__name__}")
    raise Refused(UNDECODABLE, "; ".join(reasons))


def decode_fields(payload: bytes, kind, channel: str) -> dict[str, Any]:
    """The controllable fields a device says on a codec's ``fields_topic`` (Tasmota's
    ``stat/POWER``), through the kind's codecs for this channel (first that accepts):
    only the kind's controllable fields, with plain values, at least one."""
    reasons = []
    for codec in fields_codecs(kind, channel):
        try:
            fields = dict(codec.decode_fields(payload, kind))
        except RefusedPayload as exc:
            reasons.append(f"{codec.name}: {exc}")
            continue
        except Exception as exc:  # a driver's bug must not stop the ingest
            reasons.append(f"{codec.name} failed: {type(exc).__name__}")
            continue
        allowed = controllable(kind)
        plain = (str, int, float, bool)
        if not fields or any(name not in allowed or not isinstance(v, plain) for name, v in fields.items()):
            reasons.append(f"{codec.name}: not {kind.key}'s controllable fields: {sorted(map(str, fields))}")
            continue
        return fields
    raise Refused(UNDECODABLE, "; ".join(reasons))


def availability(payload: bytes) -> bool:
    """An availability message: True for ``online``, False for ``offline`` (any case)."""
    from hems.live.availability import parse

    try:
        return parse(payload)
    except ValueError as exc:
        raise Refused(UNDECODABLE, str(exc)) from None


def power_bound(kind) -> float:
    """The most any device of the kind can draw or give (W): the kind's declared limit
    evaluated at its configuration fields' own upper bounds (a device's exact rating is
    not known here; the core's ceiling at worst)."""
    if kind.key not in _power_bounds:
        _power_bounds[kind.key] = _power_bound(kind)
    return _power_bounds[kind.key]


_power_bounds: dict[str, float] = {}


def _power_bound(kind) -> float:
    model = kind.model
    bounds = {}
    for field in model._meta.get_fields():
        bound = upper_bound(field) if hasattr(field, "validators") else None
        if bound is not None:
            bounds[field.name] = bound
    try:
        config = {name: np.array([value]) for name, value in bounds.items()}
        return float(kind.power_limit_w(config, 1)[0])
    except (KeyError, TypeError, ValueError):
        return CEILING


def validate(report, kind) -> Reading:
    """The report within the kind's bounds, as numbers for the batch."""
    limit = power_bound(kind)
    if not 0.0 <= report.power_w <= limit:
        raise Refused(OUT_OF_BOUNDS, f"powerW {report.power_w} outside 0..{limit:g}")
    flow = level = math.nan
    if kind.device_type == DeviceType.STORAGE:
        if report.flow_w is None or not abs(report.flow_w) <= limit:
            raise Refused(OUT_OF_BOUNDS, f"flowW {report.flow_w} outside -{limit:g}..{limit:g}")
        flow = report.flow_w
        if report.level_wh is not None:
            if not 0.0 <= report.level_wh <= CEILING:
                raise Refused(OUT_OF_BOUNDS, f"levelWh {report.level_wh} is negative or beyond any capacity")
            level = report.level_wh
    return Reading(report.time.timestamp(), report.power_w, flow, level, dict(report.fields) or None)


class RateLimit:
    """Each device's allowance of reports: a bucket of ``burst`` tokens refilled at
    ``per_minute`` over the reports' own times, so a fleet replayed faster than real time
    (the emulator) passes while a device flooding reports about the same moments does not.
    The times cannot run ahead of the clock (the write refuses the future), so a device
    gets at most ``burst`` plus ``per_minute`` for each minute that really passed."""

    def __init__(self, burst: float, per_minute: float):
        self.burst, self.rate = float(burst), float(per_minute) / 60.0
        self.buckets: dict[int, tuple[float, float]] = {}

    def take(self, device_id: int, time: float) -> None:
        tokens, last = self.buckets.get(device_id, (self.burst, time))
        tokens = min(self.burst, tokens + max(time - last, 0.0) * self.rate)
        if tokens < 1.0:
            self.buckets[device_id] = (tokens, max(last, time))
            raise Refused(FLOODING, f"device {device_id}")
        self.buckets[device_id] = (tokens - 1.0, max(last, time))
