"""Celery tasks: the minute's tick fans out to one task per shard of homes."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from celery import group, shared_task
from celery.signals import before_task_publish, task_prerun, worker_init
from django.conf import settings
from django.db import DatabaseError, connections
from django.utils import timezone

from hems.simulation import history
from hems.simulation.tick import minute_of, run_shard, shard_bounds, shard_count

logger = logging.getLogger("hems.simulation")

TICK = "hems.simulation.tasks.tick"
# A tick message not started within its minute is dropped by the worker, however it
# was sent (beat's entry says the same): after an outage, a backlog of queued ticks
# must not run as a burst; the next tick integrates the whole gap instead.
TICK_EXPIRES_S = 55


@before_task_publish.connect(dispatch_uid="hems.stamp_tick_instant")
def stamp_tick_instant(sender=None, body=None, **kwargs):
    """Beat publishes the tick at its scheduled minute: stamp that minute into the
    message, so a worker that runs it late still simulates the scheduled instant; and
    the shard size, so that whichever worker fans it out (again, if redelivered) cuts
    the same ranges, whatever its own setting."""
    if sender != TICK or not isinstance(body, tuple) or len(body) < 2 or not isinstance(body[1], dict):
        return
    body[1].setdefault("instant", minute_of(timezone.now()).isoformat())
    body[1].setdefault("homes_per_shard", settings.HEMS_TICK_HOMES_PER_SHARD)


@worker_init.connect(dispatch_uid="hems.preload_shards")
def preload_shards(**kwargs):
    """In the worker's main process, before it forks its pool: every shard's
    configuration read (``loader.preload``), so that no pool process's first tick of a
    shard reads it whole. The connection is closed before the fork."""
    if not settings.HEMS_TICK_PRELOAD or connections["default"].vendor != "postgresql":
        return
    from hems.plugins import registry
    from hems.simulation import loader

    started = time.perf_counter()
    try:
        devices = loader.preload(registry(), [shard_bounds(shard) for shard in range(shard_count())])
    except DatabaseError:
        logger.exception("preload: could not read the shards; each process reads its own")
        loader.forget()
    else:
        seconds = time.perf_counter() - started
        logger.info("preload: %d devices' configuration read in %.1f s", devices, seconds)
    finally:
        connections.close_all()


@task_prerun.connect(dispatch_uid="hems.drop_broken_connections")
def drop_broken_connections(**kwargs):
    """A worker process keeps its connection between tasks (CELERY_DB_REUSE_MAX): one
    an error left unusable (PostgreSQL restarted, the network dropped) is closed before
    the next task, which then opens a new one, as Django does between requests."""
    for conn in connections.all(initialized_only=True):
        if conn.connection is not None and conn.errors_occurred and not conn.is_usable():
            conn.close()


@shared_task(name=TICK, ignore_result=True, expires=TICK_EXPIRES_S)
def tick(instant: str | None = None, homes_per_shard: int | None = None) -> int:
    """Fan the tick at ``instant`` (the scheduled minute) out over shards of
    ``homes_per_shard`` homes (stamped by the sender; else this host's setting)."""
    moment = minute_of(datetime.fromisoformat(instant) if instant else timezone.now())
    size = int(homes_per_shard or settings.HEMS_TICK_HOMES_PER_SHARD)
    if size < 1:
        raise ValueError(f"homes_per_shard must be at least 1, not {homes_per_shard}")
    shards = shard_count(size)
    # Each message carries its owner range, so the host that runs it need not share
    # this one's HEMS_TICK_HOMES_PER_SHARD.
    group(
        tick_shard.s(moment.isoformat(), shard, shard * size, (shard + 1) * size) for shard in range(shards)
    ).apply_async()
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
def tick_shard(instant: str, shard: int, lo: int | None = None, hi: int | None = None) -> dict:
    """Apply one shard of one tick, owner ids [lo, hi) (a repeated delivery applies
    nothing twice). A message without the range (queued by an older fan-out during a
    rolling upgrade) covers this host's range for ``shard``. The result, in the
    worker's log, says which shard this worker applied or skipped."""
    bounds = None if lo is None or hi is None else (lo, hi)
    report = run_shard(datetime.fromisoformat(instant), shard, bounds)
    return {
        "instant": instant, "shard": shard, "lo": lo, "hi": hi, "applied": report.applied,
        "devices": report.devices, "seconds": report.seconds,
    }  # fmt: skip


@shared_task(name="hems.simulation.tasks.maintain_history", ignore_result=True)
def maintain_history() -> list[str]:
    """Create the coming days' history partitions (daily, monthly, yearly by table) and
    drop those past each table's retention (``history.PARTITIONING``)."""
    today = timezone.now().date()
    dropped = []
    for table in history.PARTITIONING:
        # A day's midnight east of UTC falls on the previous UTC day: cover yesterday too.
        history.ensure_partitions(today - timedelta(days=1), today + timedelta(days=3), table=table)
        dropped += history.drop_expired_partitions(today, table=table)
    compacted = history.compact_closed_partitions(today)
    if compacted:
        logger.info("history: packed the index of %s", ", ".join(compacted))
    return dropped
