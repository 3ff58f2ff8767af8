"""The state rows as a tick left them: which to rewrite, and what the process keeps.

Most devices come out of a minute exactly as they went in (idle, switched off, away,
full with nothing to do): :func:`must_write` picks the rows whose
stored state would change, and only those are rewritten (``writer``); the shard's
``ticked`` record says the others were simulated too.

A shard's state rows change only by the tick that runs the shard, almost always. The
process keeps every row as the tick left it, exactly as PostgreSQL stores it, with the
transaction that last wrote it: the next tick then reads only the rows someone else (a
live report, a user's change) wrote since, instead of every row of the shard
(``loader.load_shard``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from django.db import connection

from hems.sdk.simulation import State
from hems.sdk.types import DeviceType
from hems.simulation.engine import KEEP
from hems.simulation.loader import CLOSED_HOUR, HOUR_ENERGY, KindRows
from hems.simulation.pgcopy import epoch_seconds, timestamps


def as_stored(epoch_s: np.ndarray) -> np.ndarray:
    """Seconds since 1970 as they read back from a timestamptz (whole microseconds)."""
    return epoch_seconds(timestamps(epoch_s))


def stored_level(level: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """The level as the write's SQL stores it: NULL without a capacity, else
    ``LEAST(GREATEST(level, 0), capacity)``, where PostgreSQL orders NaN above every
    number (a NaN level stores as the capacity)."""
    clipped = np.where(np.isnan(level), capacity, np.clip(level, 0.0, capacity))
    return np.where(np.isnan(capacity), np.nan, clipped)


def same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Equal, NaN (NULL as read) to NaN."""
    return (a == b) | (np.isnan(a) & np.isnan(b))


def new_level(k) -> np.ndarray:
    """A kind result's new levels as the write stores and the loader reads them: other
    kinds than storage read theirs as NaN, whatever the row holds (loader.live)."""
    if k.rows.kind.device_type == DeviceType.STORAGE:
        return stored_level(k.state.level_wh, k.rows.capacity_wh)
    return np.full(len(k.rows), np.nan)


# A kept row's writing transaction is trusted while it is at most this many transaction
# ids behind the current one (ids are 32 bits and wrap around): a row left unchanged
# longer is rewritten, so that no later transaction can carry the same id.
XMIN_MAX_AGE = 2**30
# The next tick reads back the rows whose writing transaction is none of the kept rows'
# (``loader.changed_states``): rows of older transactions than the newest this many are
# rewritten, so that the list stays short however long devices stay idle.
KEPT_XIDS = 256


def xmin_horizon(kinds, current_xid: int) -> int:
    """How far behind ``current_xid`` a kept row's writing transaction may be
    (``must_write``): ``XMIN_MAX_AGE``, or less where the shard's rows (``KindRows``)
    were written by more than ``KEPT_XIDS`` transactions."""
    xmin = np.concatenate([k.xmin for k in kinds]) if kinds else np.zeros(0, dtype=np.int64)
    behind = np.unique((current_xid - xmin[xmin != 0]) % 2**32)  # the newest first
    behind = behind[behind < 2**31]
    return int(min(XMIN_MAX_AGE, behind[KEPT_XIDS - 1])) if len(behind) > KEPT_XIDS else XMIN_MAX_AGE


def must_write(k, current_xid: int | None = None, horizon: int = XMIN_MAX_AGE) -> np.ndarray:
    """Which state rows of a kind's result (``engine.KindResult``) the write rewrites:
    of the devices the tick simulated (``due``), those whose row, as stored, would
    change; a device never simulated before (its first instant); every live device
    (the energy its reports left, ``pending_*``, goes to 0); and, given the current
    transaction id, a row whose writing transaction is more than ``horizon`` ids behind
    it (:func:`xmin_horizon`)."""
    rows, new = k.rows, k.state
    old = rows.state
    unchanged = (
        (new.available == old.available)
        & same(new.power_w, old.power_w)
        & same(new.flow_w, old.flow_w)
        & same(new_level(k), old.level_wh)
        & same(as_stored(new.since), old.since)
        & same(new.aux, old.aux)
        & same(as_stored(k.hour["start"]), rows.hour["start"])
        & (k.filing == KEEP)
    )
    for name in (*HOUR_ENERGY, *CLOSED_HOUR):
        unchanged &= same(k.hour[name], rows.hour[name])
    aged = np.zeros(len(rows), dtype=bool)
    if current_xid is not None:
        # Ids behind the current one by up to half the circle; ahead of it (a
        # subtransaction's, or one that began later) by the rest.
        behind = (current_xid - rows.xmin) % 2**32
        aged = (rows.xmin != 0) & (behind > horizon) & (behind < 2**31)
    return k.due & (~unchanged | np.isnan(rows.simulated_at) | rows.live_source | aged)


def rows_as_written(result, writes: list[np.ndarray], xid: int | None) -> list[KindRows]:
    """Each kind's rows of ``result`` (an ``engine.ShardResult``) as the tick left them:
    the state the write stored for the devices it simulated (``due``; rewritten where
    ``writes``, by transaction ``xid``, else already so), the others as loaded."""
    instant = as_stored(np.array([result.instant.timestamp()]))[0]
    kinds = []
    for k, written in zip(result.kinds, writes, strict=True):
        rows, due, new = k.rows, k.due, k.state
        level = new_level(k)
        state = State(
            available=np.where(due, new.available, rows.state.available),
            power_w=np.where(due, new.power_w, rows.state.power_w),
            flow_w=np.where(due, new.flow_w, rows.state.flow_w),
            level_wh=np.where(due, level, rows.state.level_wh),
            since=np.where(due, as_stored(new.since), rows.state.since),
            aux=np.where(due, new.aux, rows.state.aux),
        )
        hour = {name: np.where(due, values, rows.hour[name]) for name, values in k.hour.items()}
        hour["start"] = np.where(due, as_stored(k.hour["start"]), rows.hour["start"])
        simulated_at = np.where(due, instant, rows.simulated_at)  # the rows not rewritten: by ``ticked``
        xmin = np.where(written, xid, rows.xmin) if xid is not None else rows.xmin
        kinds.append(replace(rows, state=state, simulated_at=simulated_at, hour=hour, xmin=xmin))
    return kinds


def current_xid() -> int:
    """The current transaction's id as a row's ``xmin`` shows it (32 bits)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current() % 4294967296")
        return int(cursor.fetchone()[0])


def writer_xid(result, writes: list[np.ndarray]) -> int | None:
    """The id of the (sub)transaction whose UPDATE wrote the shard's state rows: every
    row it wrote carries it as ``xmin``. None when it wrote none."""
    for k, written in zip(result.kinds, writes, strict=True):
        if written.any():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT xmin::text::int8 FROM hems_device_state WHERE device_id = %s",
                    [int(k.rows.ids[written][0])],
                )
                row = cursor.fetchone()
            return None if row is None else int(row[0])
    return None
