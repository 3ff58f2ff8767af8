"""The ingest process: messages from the subscriber, in batches (``HEMS_INGEST_BATCH_SIZE``
messages or ``HEMS_INGEST_BATCH_SECONDS``, whichever first), through the pipeline, then
acknowledged.

While the database is unreachable, batches wait in a buffer of at most
``HEMS_INGEST_BUFFER`` messages (unacknowledged) and are tried again with a growing
pause; beyond it the oldest are dropped, counted as "dropped: database unavailable",
and acknowledged, so the broker sends newer ones (MQTT's receive maximum, 65,535, is
above the buffer: the broker does not stop sending before the ingest drops). When the
database answers again the buffer drains, without a restart.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, InterfaceError, close_old_connections, connection

from hems.live.pipeline import DATABASE_DOWN, Message, Pipeline, Prepared

logger = logging.getLogger("hems.live.ingest")


class Runner:
    def __init__(self, subscriber, pipeline: Pipeline | None = None, batch_size: int | None = None,
                 batch_seconds: float | None = None, buffer: int | None = None, status_file: str = "",
                 clock: Callable[[], float] = time.monotonic):  # fmt: skip
        self.subscriber = subscriber
        self.pipeline = pipeline or Pipeline()
        self.metrics = self.pipeline.metrics
        self.batch_size = batch_size or settings.HEMS_INGEST_BATCH_SIZE
        self.batch_seconds = settings.HEMS_INGEST_BATCH_SECONDS if batch_seconds is None else batch_seconds
        self.buffer_limit = buffer or settings.HEMS_INGEST_BUFFER
        self.status_file = status_file
        self.clock = clock
        # Waiting for the database, oldest first: raw messages (the directory could not be
        # read) or prepared batches (the write failed). Never both kinds out of order.
        self.waiting: deque[list[Message] | Prepared] = deque()
        self.held = 0
        self.retry_at = 0.0
        self.failures = 0
        self.stopping = False

    def warm(self) -> None:
        """Load every live device's login before the first batch; a database that does not
        answer yet only means they are looked up as they arrive."""
        try:
            started = time.perf_counter()
            count = self.pipeline.directory.load_all()
            logger.info("ingest: %d live devices' logins loaded in %.1f s", count, time.perf_counter() - started)
        except (DatabaseError, InterfaceError) as exc:
            logger.warning("ingest: could not load the logins now (%s); they are looked up as they arrive", exc)
            connection.close()

    def gather(self) -> list[Message]:
        """A batch: up to ``batch_size`` messages, waiting at most ``batch_seconds`` after the first."""
        messages: list[Message] = []
        deadline = None
        while len(messages) < self.batch_size:
            left = 0.5 if deadline is None else deadline - self.clock()
            try:
                messages.append(self.subscriber.messages.get(timeout=min(left, 0.25)) if left > 0
                                else self.subscriber.messages.get_nowait())  # fmt: skip
            except queue.Empty:
                if deadline is None or left <= 0:
                    break
            else:
                deadline = deadline or self.clock() + self.batch_seconds
            self.write_status(throttle=True)
        return messages

    def run(self, iterations: int | None = None) -> None:
        done = 0
        while not self.stopping and (iterations is None or done < iterations):
            self.step_once()
            done += 1
        self.step([])  # what is gathered goes in before leaving
        self.metrics.log(force=True)
        self.write_status()

    def step_once(self) -> None:
        """Gather a batch (at most half a second without messages) and take it in."""
        self.step(self.gather())

    def step(self, messages: list[Message]) -> None:
        if messages:
            self.waiting.append(messages)
            self.held += len(messages)
        self.drop_overflow()
        if self.waiting and self.clock() >= self.retry_at:
            self.drain()
        self.metrics.log()
        self.write_status(throttle=True)

    def drain(self) -> None:
        """Write what waits, oldest first; on a database error keep it and pause."""
        close_old_connections()
        while self.waiting:
            item = self.waiting[0]
            try:
                began = time.perf_counter()
                if not isinstance(item, Prepared):
                    item = self.waiting[0] = self.pipeline.prepare(item)
                prepared = time.perf_counter()
                self.pipeline.write(item)
            except (DatabaseError, InterfaceError) as exc:
                self.database_failed(exc)
                return
            written = time.perf_counter()
            self.waiting.popleft()
            self.held -= len(item.messages)
            self.subscriber.ack(item.messages)
            self.metrics.time(prepare=prepared - began, write=written - prepared, ack=time.perf_counter() - written)
            if self.failures:
                logger.warning("ingest: the database answers again; %d messages still waiting", self.held)
                self.failures = 0

    def database_failed(self, exc: Exception) -> None:
        self.failures += 1
        pause = min(5.0, 0.25 * 2 ** min(self.failures, 5))
        self.retry_at = self.clock() + pause
        logger.warning("ingest: the database is unreachable (%s); %d messages held, next try in %.1f s",
                       str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                       self.held, pause)  # fmt: skip
        try:
            connection.close()  # a broken connection is opened afresh on the next try
        except Exception:
            pass

    def drop_overflow(self) -> None:
        """Beyond the buffer, the oldest messages go, counted, and are acknowledged."""
        while self.held > self.buffer_limit and self.waiting:
            item = self.waiting.popleft()
            messages = item.messages if isinstance(item, Prepared) else item
            self.held -= len(messages)
            for _ in messages:
                self.metrics.refuse(DATABASE_DOWN)
            self.subscriber.ack(messages)
            logger.warning("ingest: dropped %d messages: the database has been unreachable too long", len(messages))

    _status_written = 0.0

    def write_status(self, throttle: bool = False) -> None:
        """The counters as JSON in ``status_file`` (for an operator, a health check, tests)."""
        if not self.status_file or (throttle and self.clock() - self._status_written < 0.5):
            return
        self._status_written = self.clock()
        status = self.metrics.snapshot() | {
            "held": self.held,
            "received": self.subscriber.received,
            "connected": self.subscriber.connected.is_set(),
        }
        path = Path(self.status_file)
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(json.dumps(status))
        temporary.replace(path)
