"""The tick: for one instant, every shard of homes, each applied exactly once.

``run_shard`` is the unit of work of the Celery task and of ``manage.py simulate``
alike: claim (instant, shard), load, simulate, write states and history in one
transaction, then cache the stats in Redis.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from hems import metrics
from hems.energy import cache
from hems.plugins import registry
from hems.push import publish_changes
from hems.simulation import engine, loader, recording, shardlock, stored, ticked, writer

logger = logging.getLogger("hems.simulation")


@dataclass
class ShardReport:
    instant: datetime
    shard: int
    applied: bool
    devices: int = 0  # simulated
    homes: int = 0
    written: int = 0  # state rows rewritten: the devices whose stored state changed
    seconds: dict[str, float] = field(default_factory=dict)


def minute_of(moment: datetime) -> datetime:
    """The scheduled minute a moment belongs to (rounded: beat fires just after it)."""
    moment = moment.astimezone(UTC)
    return (moment + timedelta(seconds=30)).replace(second=0, microsecond=0)


def shard_of(owner_id: int) -> int:
    """The shard an owner falls in by this host's ``HEMS_TICK_HOMES_PER_SHARD``."""
    return int(owner_id) // settings.HEMS_TICK_HOMES_PER_SHARD


def shard_bounds(shard: int) -> tuple[int, int]:
    """The owner ids [lo, hi) of a shard, by this host's ``HEMS_TICK_HOMES_PER_SHARD``."""
    size = settings.HEMS_TICK_HOMES_PER_SHARD
    return shard * size, (shard + 1) * size


def check_bounds(shard: int, bounds: tuple[int, int]) -> tuple[int, int]:
    """The range a shard message carries, checked: the fan-out cut the owner ids into
    equal ranges numbered from 0, so the range is the ``shard``-th of its size and the
    claim (instant, shard) names it alone."""
    lo, hi = (int(bound) for bound in bounds)
    if shard < 0 or hi <= lo or lo != shard * (hi - lo):
        raise ValueError(f"shard {shard} cannot cover owners [{lo}, {hi})")
    return lo, hi


def shard_count(size: int | None = None) -> int:
    """Shards cover owner ids 0.. the largest user id, in ranges of ``size`` homes
    (default: ``HEMS_TICK_HOMES_PER_SHARD``)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(owner_id), 0) FROM hems_device")
        (largest,) = cursor.fetchone()
    return largest // (size or settings.HEMS_TICK_HOMES_PER_SHARD) + 1


def claim(instant: datetime, shard: int) -> bool:
    """Record (instant, shard) as applied; False if it already is. Inside the shard's
    transaction: a crash before commit leaves it unclaimed for the retry."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO hems_tick_shard (instant, shard, devices, finished_at) VALUES (%s, %s, 0, %s) "
            "ON CONFLICT (instant, shard) DO NOTHING RETURNING id",
            [instant, shard, timezone.now()],
        )
        return cursor.fetchone() is not None


def run_shard(instant: datetime, shard: int, bounds: tuple[int, int] | None = None) -> ShardReport:
    """Apply the tick at ``instant`` to one shard of homes, once: the owner ids
    ``bounds`` (the fan-out's, carried in the message), else this host's range for
    ``shard``."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    lo, hi = shard_bounds(shard) if bounds is None else check_bounds(shard, bounds)
    try:
        applied = _apply_shard(instant, shard, lo, hi, timings, started)
    except BaseException:
        loader.remember_written(lo, hi, None)  # what it kept may be a rolled-back write
        raise
    if applied is None:
        logger.info("tick %s shard %d already applied", instant.isoformat(), shard)
        return metrics.observe_shard(ShardReport(instant, shard, applied=False))
    result, written, loaded_at = applied
    metrics.observe_commit(instant)  # the lag from the scheduled minute
    mark = time.perf_counter()
    cache.write_totals(result.owners, result.totals, instant, loaded_at)
    timings["write_redis"] = time.perf_counter() - mark
    mark = time.perf_counter()
    # Committed and cached: subscribers of these homes read the new figures (hems.push).
    publish_changes(result.owners.tolist())
    timings["push"] = time.perf_counter() - mark
    timings["total"] = time.perf_counter() - started
    report = ShardReport(
        instant, shard, applied=True, devices=result.devices, homes=len(result.owners), written=written, seconds=timings
    )
    return metrics.observe_shard(report)


def _apply_shard(instant: datetime, shard: int, lo: int, hi: int, timings: dict, started: float):
    """The shard's transaction: (result, state rows written, Redis's clock at the load),
    or None if (instant, shard) was already applied."""
    with transaction.atomic():
        if not claim(instant, shard):
            return None
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # The write's hash join over a shard's rows (about 15 MB at 2,500 homes)
                # spills to disk in the default 4 MB.
                cursor.execute("SET LOCAL work_mem = '64MB'")
        shardlock.lock_for_tick(lo, hi)  # live reports to these owners wait until it commits
        loaded_at = cache.now()  # Redis's clock: mutations on other hosts stamp theirs with it
        homes, kinds = loader.load_shard(registry(), lo, hi)
        timings["load"] = time.perf_counter() - started
        mark = time.perf_counter()
        result = engine.simulate_shard(
            instant,
            homes,
            kinds,
            settings.HEMS_TICK_MAX_ELAPSED_HOURS,
            settings.HEMS_LIVE_STALE_SECONDS,
            settings.HEMS_DEVICE_HOUR_FILING_MINUTES,
        )
        timings["simulate"] = time.perf_counter() - mark
        mark = time.perf_counter()
        # Only the rows whose state changed; the others were simulated all the same.
        if connection.vendor == "postgresql":
            current = stored.current_xid()
            horizon = stored.xmin_horizon([k.rows for k in result.kinds], current)
            writes = [stored.must_write(k, current, horizon) for k in result.kinds]
        else:
            writes = [stored.must_write(k) for k in result.kinds]
        written = writer.write_states(result, writes)
        ticked.record(lo, hi, instant)
        if connection.vendor == "postgresql":
            # Kept for the next tick, which then reads only the rows others wrote since.
            whole = written == sum(int(w.sum()) for w in writes)  # else a row was newer, or gone
            xid = stored.writer_xid(result, writes) if whole and written else None
            kept = stored.rows_as_written(result, writes, xid) if whole and (xid or not written) else None
            loader.remember_written(lo, hi, kept)
        timings["write_db"] = time.perf_counter() - mark
        mark = time.perf_counter()
        recording.write_history(result)
        recording.write_device_hours(result)
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE hems_tick_shard SET devices = %s, finished_at = %s WHERE instant = %s AND shard = %s",
                [result.devices, timezone.now(), instant, shard],
            )
        timings["history"] = time.perf_counter() - mark
    return result, written, loaded_at


def run_tick(instant: datetime) -> list[ShardReport]:
    """Every shard, one after the other, in this process (``manage.py simulate``)."""
    instant = minute_of(instant)
    return [run_shard(instant, shard) for shard in range(shard_count())]
