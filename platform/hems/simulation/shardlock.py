"""The lock that keeps a shard's tick and live reports for its devices apart.

A tick reads a shard's state rows, computes, and writes them back; a live device's
report changes the same rows. The tick holds its shard's PostgreSQL advisory lock
exclusively for its whole transaction, and the ingest holds the shards it writes to
shared (ingest batches do not wait on each other), so a report commits either before
a tick reads or after it has committed: never in between, where the tick would
overwrite it or count its energy twice. Transaction-scoped: a crash releases it.
(The embedded mode's SQLite serialises writers by itself.)
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.db import connection

# The first key of the two-key advisory lock, "hems" in ASCII: the second is the shard.
NAMESPACE = 0x68656D73


def shard_of(owner_id: int) -> int:
    return int(owner_id) // settings.HEMS_TICK_HOMES_PER_SHARD


def lock_for_tick(shard: int) -> None:
    """Inside the tick's transaction, before it reads: wait for reports being written."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s::int4, %s::int4)", [NAMESPACE, int(shard)])


def lock_for_devices(device_ids: Iterable[int]) -> None:
    """Inside a report batch's transaction, before it reads the rows it will write: the
    shards of these devices' owners (an owner never changes, so no lock is needed to
    find them)."""
    wanted = [int(i) for i in device_ids]
    if connection.vendor != "postgresql" or not wanted:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock_shared(%s, shard)) FROM "
            "(SELECT DISTINCT (owner_id / %s)::int4 AS shard FROM hems_device_state WHERE device_id = ANY(%s)) shards",
            [NAMESPACE, settings.HEMS_TICK_HOMES_PER_SHARD, wanted],
        )
