"""The ingest pipeline over a batch of MQTT messages: route, authenticate, decode,
validate, limit (hems.live.steps, hems.live.directory), then one bulk write
(hems.live.ingest.apply_reports, which tells hems.push after its commit).

A bad message stops at the first step that refuses it and is counted under its reason
(:class:`Metrics`); nothing a message contains can raise out of :meth:`Pipeline.prepare`.
The only error that leaves it is the database's, which the runner (hems.live.runner)
answers by keeping the batch and trying again.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings
from django.db import transaction

from hems.live import commands, steps
from hems.live.availability import apply_availability
from hems.live.directory import Directory
from hems.live.ingest import NO_DRIVER, NOT_LIVE, UNKNOWN, apply_reports
from hems.metrics.ingest import ACCEPTED, DROPPED, ingest_message
from hems.sdk.live import availability_topics, fields_codecs

logger = logging.getLogger("hems.live.ingest")

DATABASE_DOWN = "dropped: database unavailable"


@dataclass(frozen=True)
class Message:
    """One MQTT message as received: ``mid``/``generation`` identify it for the ack."""

    topic: str
    payload: bytes
    mid: int = 0
    qos: int = 0
    generation: int = 0


@dataclass
class Prepared:
    """A batch after the steps: the readings to write, and every message (for the ack)."""

    messages: Sequence[Message]
    device_id: list[int] = field(default_factory=list)
    time: list[float] = field(default_factory=list)
    power_w: list[float] = field(default_factory=list)
    flow_w: list[float] = field(default_factory=list)
    level_wh: list[float] = field(default_factory=list)
    fields: list[dict | None] = field(default_factory=list)
    # Availability messages: per device, its last one unless a report came after it
    # (a report means online: the write makes its device available).
    available: dict[int, bool] = field(default_factory=dict)
    availability_messages: int = 0  # each counts as accepted once the batch is written
    # Fields said without a reading (a codec's fields_topic): per device, merged in
    # order; they confirm its pending commands in the batch's write.
    confirmations: dict[int, dict] = field(default_factory=dict)
    fields_messages: int = 0

    def __len__(self) -> int:
        return len(self.messages)


class Metrics:
    """Counts of accepted reports and of refused ones by reason; logged as a summary."""

    def __init__(self, interval: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.accepted = 0
        self.refused: Counter[str] = Counter()
        self.batches = 0
        self.interval, self.clock = interval, clock
        self.logged_at = clock()
        self.since = Counter()
        self.seconds: Counter[str] = Counter()  # time spent in each phase of the batches

    def time(self, **phases: float) -> None:
        self.seconds.update(phases)

    def refuse(self, reason: str, detail: str = "", topic: str = "") -> None:
        self.refused[reason] += 1
        self.since[reason] += 1
        ingest_message(DROPPED, reason)  # Prometheus (hems.metrics): a fixed set of reasons
        logger.debug("refused %s (%s) on %s", reason, detail, topic)

    def accept(self, n: int) -> None:
        self.accepted += n
        ingest_message(ACCEPTED, count=n)

    def snapshot(self) -> dict:
        return {
            "accepted": self.accepted,
            "refused": dict(self.refused),
            "batches": self.batches,
            "seconds": {phase: round(value, 3) for phase, value in self.seconds.items()},
        }

    def log(self, force: bool = False) -> None:
        """A line every ``interval`` seconds: accepted so far and what was refused since."""
        now = self.clock()
        if not force and now - self.logged_at < self.interval:
            return
        self.logged_at = now
        refused = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.since.items()))
        logger.info("ingest: %d accepted in %d batches; refused since last: %s", self.accepted, self.batches,
                    refused or "none")  # fmt: skip
        self.since.clear()


class Pipeline:
    def __init__(self, directory: Directory | None = None, limit: steps.RateLimit | None = None,
                 metrics: Metrics | None = None, write=apply_reports):  # fmt: skip
        from hems.plugins import registry

        self.kinds = registry().kinds
        self.directory = directory or Directory()
        self.limit = limit or steps.RateLimit(settings.HEMS_INGEST_BURST, settings.HEMS_INGEST_RATE_PER_MINUTE)
        self.metrics = metrics or Metrics()
        self.write_reports = write

    def prepare(self, messages: Sequence[Message]) -> Prepared:
        """Route, authenticate, decode, validate and limit each message. The directory's
        one lookup may raise a database error; then no message has been counted yet."""
        routed, unroutable = [], []
        for message in messages:
            try:
                routed.append((message, *steps.route(message.topic)))
            except steps.Refused as refused:
                unroutable.append((message, refused))
        self.directory.resolve(username for _, username, _ in routed)
        for message, refused in unroutable:
            self.metrics.refuse(refused.reason, refused.detail, message.topic)
        prepared = Prepared(messages)
        for message, username, channel in routed:
            try:
                entry = self.directory.entry(username)
                kind = self.kinds.get(entry.kind_key)
                if kind is None:
                    raise steps.Refused(NO_DRIVER, entry.kind_key)
                if channel in availability_topics(kind):
                    online = steps.availability(message.payload)
                    prepared.available.pop(entry.device_id, None)  # the last one wins
                    prepared.available[entry.device_id] = online
                    prepared.availability_messages += 1
                    continue
                if fields_codecs(kind, channel):
                    said = steps.decode_fields(message.payload, kind, channel)
                    prepared.confirmations.setdefault(entry.device_id, {}).update(said)
                    prepared.fields_messages += 1
                    continue
                reading = steps.validate(steps.decode(message.payload, kind, channel), kind)
                self.limit.take(entry.device_id, reading.time)
            except steps.Refused as refused:
                self.metrics.refuse(refused.reason, refused.detail, message.topic)
                continue
            except Exception as exc:  # never crash on input, whatever a driver does
                logger.exception("refused a message on %s: the step failed", message.topic)
                self.metrics.refuse("step failed", type(exc).__name__, message.topic)
                continue
            prepared.available.pop(entry.device_id, None)  # a report after it says online
            prepared.device_id.append(entry.device_id)
            prepared.time.append(reading.time)
            prepared.power_w.append(reading.power_w)
            prepared.flow_w.append(reading.flow_w)
            prepared.level_wh.append(reading.level_wh)
            prepared.fields.append(reading.fields)
        return prepared

    def write(self, prepared: Prepared) -> None:
        """One bulk write of the batch's readings, then of its availability messages, in
        one transaction (raises the database's errors; then nothing is counted)."""
        outcome = None
        with transaction.atomic():
            if prepared.device_id:
                outcome = self.write_reports(
                    prepared.device_id, prepared.time, prepared.power_w, prepared.flow_w, prepared.level_wh,
                    fields=prepared.fields,
                )  # fmt: skip
            if prepared.available:
                apply_availability(list(prepared.available), list(prepared.available.values()))
            if prepared.confirmations:
                commands.confirm(prepared.confirmations)
        if outcome is not None:
            self.metrics.accept(outcome.accepted)
            refused = outcome.refused.tolist()
            for reason in refused:
                if reason:
                    self.metrics.refuse(reason)
            ids = np.asarray(prepared.device_id)
            reasons = np.asarray(refused, dtype=object)
            self.directory.forget(ids[(reasons == UNKNOWN) | (reasons == NOT_LIVE)].tolist())
        if prepared.availability_messages or prepared.fields_messages:
            self.metrics.accept(prepared.availability_messages + prepared.fields_messages)
        self.metrics.batches += 1

    def process(self, messages: Sequence[Message]) -> Prepared:
        """Both steps, for tests and for callers without a buffer."""
        prepared = self.prepare(messages)
        self.write(prepared)
        return prepared
