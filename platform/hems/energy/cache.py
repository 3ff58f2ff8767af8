"""Each home's latest energy stats in Redis, written by the tick, read by the API.

Key layout (``HEMS_REDIS_PREFIX`` defaults to ``hems:``)::

    {prefix}stats:{owner_id}   hash
        current_production, current_consumption, total_capacity_wh,
        current_level_wh, percentage, current_storage_flow, net_grid_flow
                               floats (W, Wh, %)
        timestamp              the tick's instant (seconds since the epoch)
        loaded_at              when the figures' device configuration was read
        config_at              when the home's devices last changed (set by mutations
                               and by live devices' reports)

The figures are stale when ``config_at > loaded_at``: a user changed a device after
the tick read it. Both are read from Redis's clock (``now``), whichever host takes them.
Redis is a cache: a missing or stale hash is recomputed from PostgreSQL and written
back. Without ``REDIS_URL`` (the embedded mode) there is no cache at all: every read
recomputes, every write is skipped.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from functools import cache

import redis
from django.conf import settings

from hems.energy.stats import EnergyStats

logger = logging.getLogger("hems.energy")

FIELDS = (
    "current_production", "current_consumption", "total_capacity_wh", "current_level_wh",
    "percentage", "current_storage_flow", "net_grid_flow",
)  # fmt: skip


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30)


def client() -> redis.Redis:
    return _client(settings.REDIS_URL)


# "Changed after the figures were read" compares moments taken on different hosts (a
# worker, each web process): they are all read from Redis's clock, never the host's own.
_STAMP = """
local t = redis.call('TIME')
local now = t[1] .. '.' .. string.rep('0', 6 - #t[2]) .. t[2]
for _, k in ipairs(KEYS) do redis.call('HSET', k, 'config_at', now) end
"""


def now() -> float:
    """Seconds since the epoch on Redis's clock, the one every host shares (the host's
    own clock without Redis or when it is unreachable: nothing is cached then)."""
    if enabled():
        try:
            seconds, micros = client().time()
            return seconds + micros / 1e6
        except redis.RedisError:
            pass
    return time.time()


def enabled() -> bool:
    """Is a Redis configured? (Not in the embedded mode.)"""
    return bool(settings.REDIS_URL)


def key(owner_id: int) -> str:
    return f"{settings.HEMS_REDIS_PREFIX}stats:{owner_id}"


def encode(stats: EnergyStats, loaded_at: float) -> dict[str, float]:
    values = {name: float(getattr(stats, name)) for name in FIELDS}
    values["timestamp"] = stats.timestamp.timestamp()
    values["loaded_at"] = loaded_at
    return values


def read(owner_id: int) -> EnergyStats | None:
    """The cached stats, or None when missing, stale or Redis is unreachable."""
    if not enabled():
        return None
    try:
        raw = client().hgetall(key(owner_id))
    except redis.RedisError as exc:
        logger.warning("redis unreachable, energy stats from PostgreSQL: %s", exc)
        return None
    if not raw or b"timestamp" not in raw:
        return None
    values = {k.decode(): float(v) for k, v in raw.items()}
    if values.get("config_at", 0.0) > values.get("loaded_at", 0.0):
        return None
    return EnergyStats(
        **{name: values[name] for name in FIELDS}, timestamp=datetime.fromtimestamp(values["timestamp"], UTC)
    )


def write(owner_id: int, stats: EnergyStats, loaded_at: float) -> None:
    if not enabled():
        return
    try:
        client().hset(key(owner_id), mapping=encode(stats, loaded_at))
    except redis.RedisError as exc:
        logger.warning("could not cache energy stats: %s", exc)


def write_many(items: list[tuple[int, EnergyStats]], loaded_at: float, chunk: int = 2000) -> None:
    """Write many homes' stats in pipelines (one round trip per ``chunk`` homes)."""
    if not enabled():
        return
    try:
        pipe = client().pipeline(transaction=False)
        for i, (owner_id, stats) in enumerate(items, 1):
            pipe.hset(key(owner_id), mapping=encode(stats, loaded_at))
            if i % chunk == 0:
                pipe.execute()
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("could not cache energy stats of %d homes: %s", len(items), exc)


def config_changed(owner_id: int) -> None:
    """A user changed their devices: figures read before now are stale."""
    if not enabled():
        return
    try:
        client().eval(_STAMP, 1, key(owner_id))
    except redis.RedisError as exc:
        logger.warning("could not mark energy stats stale: %s", exc)


def changed_many(owner_ids) -> None:
    """Live reports changed these homes' states: figures read before now are stale (the
    next energyStats recomputes them, so a report shows at once). One round trip."""
    if not enabled():
        return
    keys = [key(owner_id) for owner_id in owner_ids]
    if not keys:
        return
    try:
        client().eval(_STAMP, len(keys), *keys)
    except redis.RedisError as exc:
        logger.warning("could not mark energy stats stale: %s", exc)


def stats_for(owner_id: int) -> EnergyStats:
    """energyStats: from Redis in one round trip, or recomputed from PostgreSQL."""
    from django.utils import timezone

    from hems.energy.stats import stats_from_database

    cached = read(owner_id)
    if cached is not None:
        return cached
    if enabled():  # a cache miss costs a query: worth seeing in the logs
        logger.info("energy stats of owner %d recomputed from PostgreSQL (not cached or stale)", owner_id)
    loaded_at = now()
    stats = stats_from_database(owner_id, timezone.now())
    write(owner_id, stats, loaded_at)
    return stats
