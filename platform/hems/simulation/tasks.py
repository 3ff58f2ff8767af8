"""Celery tasks: the minute's tick fans out to one task per shard of homes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import group, shared_task
from celery.signals import before_task_publish
from django.db import DatabaseError
from django.utils import timezone

from hems.simulation import history
from hems.simulation.tick import minute_of, run_shard, shard_count

logger = logging.getLogger("hems.simulation")

TICK = "hems.simulation.tasks.tick"
# A tick message not started within its minute is dropped by the worker, however it
# was sent (beat's entry says the same): after an outage, a backlog of queued ticks
# must not run as a burst; the next tick integrates the whole gap instead.
TICK_EXPIRES_S = 55


@before_task_publish.connect(dispatch_uid="hems.stamp_tick_instant")
def stamp_tick_instant(sender=None, body=None, **kwargs):
    """Beat publishes the tick at its scheduled minute: stamp that minute into the
    message, so a worker that runs it late still simulates the scheduled instant."""
    if sender != TICK or not isinstance(body, tuple) or len(body) < 2 or not isinstance(body[1], dict):
        return
    body[1].setdefault("instant", minute_of(timezone.now()).isoformat())


@shared_task(name=TICK, ignore_result=True, expires=TICK_EXPIRES_S)
def tick(instant: str | None = None) -> int:
    """Fan the tick at ``instant`` (the scheduled minute) out over the shards."""
    moment = minute_of(datetime.fromisoformat(instant) if instant else timezone.now())
    shards = shard_count()
    group(tick_shard.s(moment.isoformat(), shard) for shard in range(shards)).apply_async()
    logger.info("tick %s: %d shard(s) queued", moment.isoformat(), shards)
    return shards


@shared_task(
    name="hems.simulation.tasks.tick_shard",
    ignore_result=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(DatabaseError,),
    retry_backoff=2,
    retry_kwargs={"max_retries": 5},
)
def tick_shard(instant: str, shard: int) -> dict:
    """Apply one shard of one tick (a repeated delivery applies nothing twice). The
    result, in the worker's log, says which shard this worker applied or skipped."""
    report = run_shard(datetime.fromisoformat(instant), shard)
    return {
        "instant": instant, "shard": shard, "applied": report.applied, "devices": report.devices,
        "seconds": report.seconds,
    }  # fmt: skip


@shared_task(name="hems.simulation.tasks.maintain_history", ignore_result=True)
def maintain_history() -> list[str]:
    """Create the next days' history partitions and drop the expired ones."""
    today = timezone.now().date()
    dropped = []
    for table in (history.TABLE, history.DEVICE_TABLE):
        history.ensure_partitions(today, today + timedelta(days=3), table=table)
        dropped += history.drop_expired_partitions(today, table=table)
    return dropped
