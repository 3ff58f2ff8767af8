"""The lock that keeps a shard's tick and live reports for its devices apart.

A tick reads a shard's state rows, computes, and writes them back; a live device's
report changes the same rows. The tick holds the advisory locks of its owners
exclusively for its whole transaction, and the ingest holds those of the owners it
writes to shared (ingest batches do not wait on each other), so a report commits
either before a tick reads or after it has committed: never in between, where the tick
would overwrite it or count its energy twice. Transaction-scoped: a crash releases it.
(The embedded mode's SQLite serialises writers by itself.)

The keys are blocks of ``BLOCK`` owners, a constant rather than the shard size
(``HEMS_TICK_HOMES_PER_SHARD``): a worker host and an ingest host whose settings differ
still meet on the same keys. Both sides take their keys in ascending order, so a tick
waiting for a report batch and a batch waiting for a tick never wait for each other.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

# The first key of the two-key advisory lock, "hems" in ASCII: the second is the block.
NAMESPACE = 0x68656D73
# Owners per key. A shard of 2,500 homes takes 40 keys, in one statement, and holds them
# in PostgreSQL's shared lock table while it runs (6,400 entries by default, for every
# lock of every session). Shards smaller than a block share its key with their
# neighbours, and run one after the other.
BLOCK = 64


def block_of(owner_id: int) -> int:
    """The second key of an owner's lock."""
    return int(owner_id) // BLOCK


def lock_for_tick(lo: int, hi: int) -> None:
    """Inside the tick's transaction, before it reads the owners [lo, hi): wait for the
    report batches being written to them, and keep new ones waiting until it commits."""
    if connection.vendor != "postgresql" or hi <= lo:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock(%s::int4, block::int4)) FROM generate_series(%s, %s) AS block",
            [NAMESPACE, block_of(lo), block_of(hi - 1)],
        )


def lock_for_devices(device_ids: Iterable[int]) -> None:
    """Inside a report batch's transaction, before it reads the rows it will write: the
    keys of these devices' owners (an owner never changes, so no lock is needed to find
    them), in ascending order."""
    wanted = [int(i) for i in device_ids]
    if connection.vendor != "postgresql" or not wanted:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_advisory_xact_lock_shared(%s::int4, block)) FROM "
            "(SELECT DISTINCT (owner_id / %s)::int4 AS block FROM hems_device_state WHERE device_id = ANY(%s) "
            "ORDER BY 1) AS blocks",
            [NAMESPACE, BLOCK, wanted],
        )
