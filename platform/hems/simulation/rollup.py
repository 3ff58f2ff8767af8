"""The roll-up of a shard's history: each tick's energy into its home's running hour;
an hour, once complete, into the hourly and daily tables. Bulk statements per shard,
in the shard's transaction (its claim makes each tick's energy land once).

A tick counts in the local hour (and day) holding its ``period_start``, as the fine
rows are bucketed. A home whose zone changes: its running hour completes under the
old zone's hour and a new one starts under the new zone's; the hours before keep the
old zone's alignment (a HOUR bucket of the new zone finds them only where both agree).
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
from django.conf import settings
from django.db import connection

from hems.simulation import history

NAMES = ", ".join(history.ENERGY)
RUNNING = history.RUNNING_TABLE


def zone_of(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.HEMS_DEFAULT_TIME_ZONE)


def local_starts(period_start: np.ndarray, time_zones: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The start of the local hour and of the local day holding each instant (seconds
    since the epoch), in each one's zone. Exact in half- and quarter-hour zones and on
    DST days: each distinct (zone, instant) is converted once with its own offset (a
    regular tick has one instant, so one conversion per zone)."""
    hours = np.empty(len(period_start))
    days = np.empty(len(period_start))
    if not len(period_start):
        return hours, days
    zones, zone_index = np.unique(time_zones.astype(str), return_inverse=True)
    pairs, inverse = np.unique(np.stack([zone_index.astype(float), period_start]), axis=1, return_inverse=True)
    inverse = np.ravel(inverse)
    for i, (zone_i, instant) in enumerate(pairs.T):
        local = datetime.fromtimestamp(float(instant), zone_of(zones[int(zone_i)]))
        # replace() keeps ``fold``, so the repeated hour of a fall-back night is its own.
        hour = local.replace(minute=0, second=0, microsecond=0).timestamp()
        day = local.replace(hour=0, minute=0, second=0, microsecond=0, fold=0).timestamp()
        hours[inverse == i] = hour
        days[inverse == i] = day
    return hours, days


# The running hour: the same hour adds up; a new hour replaces it (the completed one
# has been moved out by COMPLETE_HOURS, in the same transaction, just before).
UPSERT_RUNNING = (
    "ON CONFLICT (owner_id) DO UPDATE SET "
    + ", ".join(
        f"{name} = CASE WHEN {RUNNING}.hour_start = EXCLUDED.hour_start "
        f"THEN {RUNNING}.{name} + EXCLUDED.{name} ELSE EXCLUDED.{name} END"
        for name in history.ENERGY
    )
    + ", hour_start = EXCLUDED.hour_start, day_start = EXCLUDED.day_start"
)
# An hour or a day already there (a home's zone moved back over it) adds up.
ADD_TO_HOUR = "ON CONFLICT (owner_id, hour_start) DO UPDATE SET " + ", ".join(
    f"{name} = {history.HOUR_TABLE}.{name} + EXCLUDED.{name}" for name in history.ENERGY
)
ADD_TO_DAY = "ON CONFLICT (owner_id, day_start) DO UPDATE SET " + ", ".join(
    f"{name} = {history.DAY_TABLE}.{name} + EXCLUDED.{name}" for name in history.ENERGY
)

# Homes of this tick whose running hour is another hour: it is complete.
COMPLETED = f"""
    SELECT r.owner_id, r.hour_start, r.day_start, {", ".join(f"r.{name}" for name in history.ENERGY)}
    FROM {RUNNING} r JOIN hems_tick_energy t ON t.owner_id = r.owner_id
    WHERE r.hour_start <> to_timestamp(t.hour_start)
"""
COMPLETE_HOURS = f"""
    WITH done AS MATERIALIZED ({COMPLETED}),
    hours AS (
        INSERT INTO {history.HOUR_TABLE} (owner_id, hour_start, {NAMES})
        SELECT owner_id, hour_start, {", ".join(history.as_real(name) for name in history.ENERGY)}
        FROM done {ADD_TO_HOUR}
    )
    INSERT INTO {history.DAY_TABLE} (owner_id, day_start, {NAMES})
    SELECT owner_id, day_start, {", ".join(f"sum({name})" for name in history.ENERGY)} FROM done GROUP BY 1, 2
    {ADD_TO_DAY}
"""
ADD_TO_RUNNING = f"""
    INSERT INTO {RUNNING} (owner_id, hour_start, day_start, {NAMES})
    SELECT owner_id, to_timestamp(hour_start), to_timestamp(day_start), {NAMES} FROM hems_tick_energy
    {UPSERT_RUNNING}
"""


def roll_up(cursor) -> int:
    """PostgreSQL: roll the tick's rows in ``hems_tick_energy`` (with each home's local
    ``hour_start`` and ``day_start``) up. Returns the number of hours completed.

    A regular tick costs one join (nothing completes) and the running upsert; the tick
    at the hour also inserts one hour row and one day upsert per home.
    """
    cursor.execute(
        f"SELECT min(extract(epoch FROM hour_start)), max(extract(epoch FROM hour_start)), count(*) "
        f"FROM ({COMPLETED}) AS done"
    )
    first, last, completed = cursor.fetchone()
    if completed:
        # A day's midnight may fall on the previous UTC day (zones east of UTC). One
        # catalogue query for both tables.
        history.ensure_partitions_of(
            [
                (history.HOUR_TABLE, history.utc_day(first), history.utc_day(last)),
                (history.DAY_TABLE, history.utc_day(float(first) - 86400), history.utc_day(last)),
            ]
        )
        cursor.execute(COMPLETE_HOURS)
    cursor.execute(ADD_TO_RUNNING)
    return int(completed or 0)


def roll_up_portable(owners, hour_starts, day_starts, energy: dict[str, np.ndarray]) -> int:
    """The same roll-up for the embedded SQLite mode: row by row, in Python."""
    if not len(owners):
        return 0
    owner_list = [int(owner) for owner in owners]
    marks = ", ".join(["%s"] * len(owner_list))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT owner_id, hour_start, day_start, {NAMES} FROM {RUNNING} WHERE owner_id IN ({marks})", owner_list
        )
        running = {row[0]: row[1:] for row in cursor.fetchall()}
        hours, new_running = [], []
        for i, owner in enumerate(owner_list):
            hour = datetime.fromtimestamp(float(hour_starts[i]), UTC)
            day = datetime.fromtimestamp(float(day_starts[i]), UTC)
            values = [float(energy[name][i]) for name in history.ENERGY]
            previous = running.get(owner)
            if previous is not None and history.aware(previous[0]) == hour:
                values = [a + b for a, b in zip(previous[2:], values, strict=True)]
            elif previous is not None:
                hours.append((owner, history.aware(previous[0]), history.aware(previous[1]), *previous[2:]))
            new_running.append((owner, hour, day, *values))
        marks6 = ", ".join(["%s"] * len(history.ENERGY))
        if hours:
            cursor.executemany(
                f"INSERT INTO {history.HOUR_TABLE} (owner_id, hour_start, {NAMES}) VALUES (%s, %s, {marks6}) "
                + ADD_TO_HOUR,
                [(owner, hour, *values) for owner, hour, _, *values in hours],
            )
            cursor.executemany(
                f"INSERT INTO {history.DAY_TABLE} (owner_id, day_start, {NAMES}) VALUES (%s, %s, {marks6}) "
                + ADD_TO_DAY,
                [(owner, day, *values) for owner, _, day, *values in hours],
            )
        cursor.executemany(
            f"INSERT INTO {RUNNING} (owner_id, hour_start, day_start, {NAMES}) VALUES (%s, %s, %s, {marks6}) "
            f"ON CONFLICT (owner_id) DO UPDATE SET hour_start = EXCLUDED.hour_start, "
            f"day_start = EXCLUDED.day_start, " + ", ".join(f"{name} = EXCLUDED.{name}" for name in history.ENERGY),
            new_running,
        )
    return len(hours)


# A device's finished hour into its local day: energies add up; the level is the later
# hour's (hours finish in order), kept when that hour recorded none.
ADD_TO_DEVICE_DAY = (
    "ON CONFLICT (device_id, day_start) DO UPDATE SET "
    + ", ".join(f"{name} = {history.DEVICE_DAY_TABLE}.{name} + EXCLUDED.{name}" for name in history.DEVICE_ENERGY)
    + f", level_wh = COALESCE(EXCLUDED.level_wh, {history.DEVICE_DAY_TABLE}.level_wh)"
)


def device_days(cursor) -> None:
    """PostgreSQL: the finished hours in ``hems_tick_device_hours`` into their local days
    (``day_start``: the local midnight of each hour in its home's zone, from the engine;
    the caller has made their partitions)."""
    energies = ", ".join(f"t.{name}" for name in history.DEVICE_ENERGY)
    cursor.execute(
        f"INSERT INTO {history.DEVICE_DAY_TABLE} (device_id, day_start, {', '.join(history.DEVICE_ENERGY)}, level_wh) "
        f"SELECT t.device_id, to_timestamp(t.day_start), {energies}, NULLIF(t.level_wh, 'NaN') "
        "FROM hems_tick_device_hours t " + ADD_TO_DEVICE_DAY
    )


def device_days_portable(rows: list[tuple]) -> None:
    """The same for SQLite: ``rows`` as written to the hourly table (device_id, aware
    hour start, energies, level)."""
    ids = sorted({row[0] for row in rows})
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT d.id, h.time_zone FROM hems_device d LEFT JOIN hems_home h ON h.owner_id = d.owner_id "
            f"WHERE d.id IN ({marks})",
            ids,
        )
        zones = {device: zone_of(name or settings.HEMS_DEFAULT_TIME_ZONE) for device, name in cursor.fetchall()}
        days = []
        for device, hour, *values in rows:
            zone = zones.get(device, zone_of(settings.HEMS_DEFAULT_TIME_ZONE))
            days.append((device, history.day_floor(hour, zone), *values))
        cursor.executemany(
            f"INSERT INTO {history.DEVICE_DAY_TABLE} (device_id, day_start, {', '.join(history.DEVICE_ENERGY)}, "
            "level_wh) VALUES (%s, %s, %s, %s, %s, %s) " + ADD_TO_DEVICE_DAY,
            days,
        )
