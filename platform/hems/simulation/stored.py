"""The state rows as a tick left them, kept by the process for its next tick.

A shard's state rows change every minute, and almost always only by the tick that
runs the shard. The process that wrote them keeps what it wrote, exactly as
PostgreSQL stores it, and the transaction id that wrote them: the next tick then reads
only the rows whose ``xmin`` differs, the rows someone else (a live report, a user's
change) wrote since, instead of every row of the shard (``loader.load_shard``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from django.db import connection

from hems.sdk.simulation import State
from hems.sdk.types import DeviceType
from hems.simulation.loader import KindRows
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


def rows_as_written(result) -> list[KindRows]:
    """Each kind's rows of ``result`` (an ``engine.ShardResult``) with the state the
    write stored for the devices it simulated (``due``); the others as loaded."""
    instant = as_stored(np.array([result.instant.timestamp()]))[0]
    kinds = []
    for k in result.kinds:
        rows, due, new = k.rows, k.due, k.state
        storage = rows.kind.device_type == DeviceType.STORAGE
        # Other kinds read their level as NaN, whatever the row holds (loader.live).
        level = stored_level(new.level_wh, rows.capacity_wh) if storage else np.full(len(rows), np.nan)
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
        kinds.append(replace(rows, state=state, simulated_at=np.where(due, instant, rows.simulated_at), hour=hour))
    return kinds


def writer_xid(result) -> str | None:
    """The id of the (sub)transaction whose UPDATE wrote the shard's state rows: every
    row it wrote carries it as ``xmin``. None when it wrote none."""
    for k in result.kinds:
        if k.due.any():
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT xmin::text FROM hems_device_state WHERE device_id = %s", [int(k.rows.ids[k.due][0])]
                )
                row = cursor.fetchone()
            return None if row is None else row[0]
    return None
