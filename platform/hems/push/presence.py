"""Which owners have a live subscriber, so the tick publishes only to them.

A channels-redis ``group_send`` costs two Redis round trips even to an empty group:
2,500 of them took 0.65 s here, as long as a whole shard of the tick. A subscriber
therefore marks its owner in one sorted set (score: until when), refreshed while it is
connected, and the publisher asks for a whole shard's owners in one ZMSCORE. Without
Redis (the embedded mode: one process, one home) every owner is published.
"""

from __future__ import annotations

import logging
import time

import redis
from django.conf import settings

from hems.energy import cache

logger = logging.getLogger("hems.push")

TTL_SECONDS = 60.0
REFRESH_SECONDS = TTL_SECONDS / 3


def key() -> str:
    return f"{settings.HEMS_REDIS_PREFIX}push:subscribed"


def mark(owner_id: int) -> None:
    """Record a live subscriber of ``owner_id`` for the next TTL_SECONDS (sync: run it in a thread)."""
    if not cache.enabled():
        return
    now = time.time()
    pipe = cache.client().pipeline(transaction=False)
    pipe.zadd(key(), {str(owner_id): now + TTL_SECONDS}, gt=True)  # never shortens another connection's mark
    pipe.zremrangebyscore(key(), "-inf", now)  # forget the ones that left
    try:
        pipe.execute()
    except redis.RedisError as exc:  # the subscriber still gets its first message; changes wait for Redis
        logger.warning("push: could not mark a subscriber in Redis: %s", exc)


def subscribed(owner_ids: list[int]) -> list[int]:
    """The owners among ``owner_ids`` with a live subscriber (all of them without Redis)."""
    if not cache.enabled() or not owner_ids:
        return owner_ids
    now = time.time()
    scores = cache.client().zmscore(key(), [str(owner_id) for owner_id in owner_ids])
    return [owner_id for owner_id, until in zip(owner_ids, scores, strict=True) if until is not None and until > now]
