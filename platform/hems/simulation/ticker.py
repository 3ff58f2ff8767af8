"""The in-process scheduler of the embedded mode: the tick every minute, no broker.

Celery beat and a worker do this in a deployment. Here one loop runs the tick at
each minute boundary, the first one at once. A minute missed while the machine
slept or a tick ran long is not caught up: the next tick integrates the whole gap
(the drivers see each device's elapsed time), as after a beat outage.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from django.db import DatabaseError, close_old_connections, connection
from django.utils import timezone

from hems.simulation import history
from hems.simulation.tick import run_tick

logger = logging.getLogger("hems.simulation")


def due(now: datetime, last: datetime | None) -> datetime | None:
    """The minute to tick at ``now``, or None when this minute has had its tick.

    Only ever the current minute: however long since ``last``, one tick runs."""
    minute = now.astimezone(UTC).replace(second=0, microsecond=0)
    return None if last is not None and minute <= last else minute


def seconds_to_next_minute(now: datetime) -> float:
    following = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    return max(0.0, (following - now).total_seconds())


def maintain(today) -> None:
    """Daily: drop history past its retention (there are no partitions to create)."""
    for table in (history.TABLE, history.DEVICE_TABLE):
        history.drop_expired_partitions(today, table=table)


def tick_once(now: datetime, last: datetime | None) -> datetime | None:
    """Run the tick due at ``now``, if any; return the minute it ran at (or ``last``)."""
    minute = due(now, last)
    if minute is None:
        return last
    if not connection.in_atomic_block:  # never under a caller's transaction
        close_old_connections()  # a long-lived process: drop a connection that went bad
    try:
        if last is None or minute.date() != last.date():
            maintain(minute.date())
        reports = run_tick(minute)
    except DatabaseError:
        # The next minute's tick integrates this one's time: nothing is lost by waiting.
        logger.exception("tick %s failed; the next one will cover its time", minute.isoformat())
        return last
    logger.info(
        "tick %s: %d device(s) in %d shard(s)", minute.isoformat(), sum(r.devices for r in reports), len(reports)
    )
    return minute


def run(ticks: int | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
    """Tick now, then at every minute boundary; stop after ``ticks`` ticks if given."""
    last = None
    done = 0
    while ticks is None or done < ticks:
        ran = tick_once(timezone.now(), last)
        if ran is not None and ran != last:
            done += 1
        last = ran
        if ticks is not None and done >= ticks:
            return
        sleep(seconds_to_next_minute(timezone.now()) + 0.05)
