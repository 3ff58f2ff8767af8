"""Write a shard's history: one row per home for the tick's span, rolled up into its
running hour (``hems.simulation.rollup``), and the devices' finished hours and days."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from django.conf import settings
from django.db import connection

from hems.simulation import history, rollup
from hems.simulation.engine import ShardResult
from hems.simulation.pgcopy import copy_in


def write_history(result: ShardResult) -> int:
    """One row per home for the span this tick covered, and its roll-up."""
    if not len(result.owners):
        return 0
    starts = result.period_start
    zones = result.time_zone
    if zones is None:
        zones = np.full(len(result.owners), settings.HEMS_DEFAULT_TIME_ZONE)
    hour_starts, day_starts = rollup.local_starts(starts, zones)
    history.ensure_partitions(history.utc_day(starts.min()), history.utc_day(starts.max()))
    if connection.vendor != "postgresql":
        from hems.simulation.models import HomeEnergy

        HomeEnergy.objects.bulk_create(
            [
                HomeEnergy(
                    owner_id=int(owner),
                    period_start=datetime.fromtimestamp(float(starts[i]), UTC),
                    period_end=result.instant,
                    **{name: float(result.energy[name][i]) for name in history.ENERGY},
                )
                for i, owner in enumerate(result.owners)
            ]
        )
        rollup.roll_up_portable(result.owners, hour_starts, day_starts, result.energy)
        return len(result.owners)
    end = np.full(len(result.owners), result.instant.timestamp())
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS hems_tick_energy "
            "(owner_id bigint, period_start float8, period_end float8, hour_start float8, day_start float8, "
            + ", ".join(f"{name} float8" for name in history.ENERGY)
            + ") ON COMMIT DELETE ROWS"
        )
        copy_in(
            cursor,
            "hems_tick_energy",
            [("owner_id", "int8", result.owners), ("period_start", "float8", starts), ("period_end", "float8", end)]
            + [("hour_start", "float8", hour_starts), ("day_start", "float8", day_starts)]
            + [(name, "float8", result.energy[name]) for name in history.ENERGY],
        )
        names = ", ".join(history.ENERGY)
        cursor.execute(
            f"INSERT INTO {history.TABLE} (owner_id, period_start, period_end, {names}) "
            f"SELECT owner_id, to_timestamp(period_start), to_timestamp(period_end), {names} FROM hems_tick_energy "
            "ON CONFLICT DO NOTHING"
        )
        written = cursor.rowcount
        rollup.roll_up(cursor)
        cursor.execute("TRUNCATE hems_tick_energy")
    return written


# An hour already flushed (the device's time zone moved it, or a replay) adds up; its
# level is the later flush's, which ended later.
ADD_TO_HOUR = (
    "ON CONFLICT (device_id, hour_start) DO UPDATE SET energy_wh = hems_device_energy.energy_wh + "
    "EXCLUDED.energy_wh, charge_wh = hems_device_energy.charge_wh + EXCLUDED.charge_wh, "
    "discharge_wh = hems_device_energy.discharge_wh + EXCLUDED.discharge_wh, "
    "level_wh = COALESCE(EXCLUDED.level_wh, hems_device_energy.level_wh)"
)
HOUR_COLUMNS = ("device_id", "hour_start", *history.DEVICE_ENERGY, "level_wh")


def write_device_hours(result: ShardResult) -> int:
    """The hours that ended at this tick, one row per device, into the hourly history,
    with a storage device's level at the hour's end (NULL for the others)."""
    parts = [k.finished for k in result.kinds if len(k.finished["device_id"])]
    if not parts:
        return 0
    finished = {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}
    # One catalogue query for the hours' partitions and their days' (filed every tick).
    history.ensure_partitions_of(
        [
            (table, history.utc_day(finished[column].min()), history.utc_day(finished[column].max()))
            for table, column in ((history.DEVICE_TABLE, "start"), (history.DEVICE_DAY_TABLE, "day_start"))
        ]
    )
    names = ", ".join(HOUR_COLUMNS)
    if connection.vendor != "postgresql":
        energies = zip(*(finished[n].tolist() for n in history.DEVICE_ENERGY), strict=True)
        rows = [
            (device, datetime.fromtimestamp(start, UTC), *energy, None if np.isnan(level) else level)
            for device, start, energy, level in zip(
                finished["device_id"].tolist(), finished["start"].tolist(), energies, finished["level_wh"].tolist(),
                strict=True,
            )
        ]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {history.DEVICE_TABLE} ({names}) VALUES (%s, %s, %s, %s, %s, %s) " + ADD_TO_HOUR, rows
            )
        rollup.device_days_portable(rows)
        return len(rows)
    with connection.cursor() as cursor:
        # A temporary table outlives the process in a pooled server session: a new
        # layout takes a new name, so it never meets an older one's table.
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS hems_tick_device_hours (device_id bigint, hour_start float8, "
            "energy_wh float8, charge_wh float8, discharge_wh float8, level_wh float8, day_start float8) "
            "ON COMMIT DELETE ROWS"
        )
        copy_in(
            cursor,
            "hems_tick_device_hours",
            [("device_id", "int8", finished["device_id"]), ("hour_start", "float8", finished["start"])]
            + [(name, "float8", finished[name]) for name in (*history.DEVICE_ENERGY, "level_wh", "day_start")],
        )
        energies = ", ".join(history.DEVICE_ENERGY)
        cursor.execute(
            f"INSERT INTO {history.DEVICE_TABLE} ({names}) "
            f"SELECT device_id, to_timestamp(hour_start), {energies}, NULLIF(level_wh, 'NaN') "
            "FROM hems_tick_device_hours " + ADD_TO_HOUR
        )
        written = cursor.rowcount
        rollup.device_days(cursor)
        cursor.execute("TRUNCATE hems_tick_device_hours")
    return written
