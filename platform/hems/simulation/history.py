"""Energy history, per home per tick and per device per hour: daily partitions,
retention, and bucketed reads in the home's time zone."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger("hems.simulation")

TABLE = "hems_home_energy"
COLUMNS = (
    "owner_id", "period_start", "period_end", "production_wh", "consumption_wh",
    "storage_charge_wh", "storage_discharge_wh", "grid_import_wh", "grid_export_wh",
)  # fmt: skip
ENERGY = COLUMNS[3:]

CREATE_POSTGRES = f"""
CREATE TABLE {TABLE} (
    owner_id bigint NOT NULL,
    period_start timestamptz NOT NULL,
    period_end timestamptz NOT NULL,
    production_wh double precision NOT NULL,
    consumption_wh double precision NOT NULL,
    storage_charge_wh double precision NOT NULL,
    storage_discharge_wh double precision NOT NULL,
    grid_import_wh double precision NOT NULL,
    grid_export_wh double precision NOT NULL,
    PRIMARY KEY (owner_id, period_start),
    CHECK (period_end > period_start),
    CHECK (production_wh >= 0 AND consumption_wh >= 0 AND storage_charge_wh >= 0
           AND storage_discharge_wh >= 0 AND grid_import_wh >= 0 AND grid_export_wh >= 0)
) PARTITION BY RANGE (period_start)
"""
DEVICE_TABLE = "hems_device_energy"
DEVICE_ENERGY = ("energy_wh", "charge_wh", "discharge_wh")
# As migration 0003 created the table; 0004 adds ``level_wh``, a storage device's level
# at the end of the hour (NULL for other devices and for hours recorded before it).
CREATE_DEVICE_POSTGRES = f"""
CREATE TABLE {DEVICE_TABLE} (
    device_id bigint NOT NULL,
    hour_start timestamptz NOT NULL,
    energy_wh double precision NOT NULL,
    charge_wh double precision NOT NULL,
    discharge_wh double precision NOT NULL,
    PRIMARY KEY (device_id, hour_start),
    CHECK (energy_wh >= 0 AND charge_wh >= 0 AND discharge_wh >= 0)
) PARTITION BY RANGE (hour_start)
"""
CREATE_DEVICE_OTHER = (
    CREATE_DEVICE_POSTGRES.replace("timestamptz", "timestamp")
    .replace("double precision", "real")
    .split(") PARTITION BY")[0]
    + ")"
)

CREATE_OTHER = (
    CREATE_POSTGRES.replace("timestamptz", "timestamp").replace("double precision", "real").split(") PARTITION BY")[0]
    + ")"
)


def partition_name(day: date, table: str = TABLE) -> str:
    return f"{table}_{day:%Y%m%d}"


def ensure_partitions(first: date, last: date, table: str = TABLE) -> None:
    """Create the daily partitions covering [first, last] that do not exist yet.

    Asks the catalogue each time (one cheap query per day) rather than remembering:
    a rolled-back transaction takes its partitions with it.
    """
    if connection.vendor != "postgresql":
        return
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL",
            [[partition_name(day, table) for day in days]],
        )
        missing = {row[0] for row in cursor.fetchall()}
        for day in days:
            if partition_name(day, table) in missing:
                following = day + timedelta(days=1)
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {partition_name(day, table)} PARTITION OF {table} "
                    f"FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') TO ('{following.isoformat()} 00:00:00+00')"
                )


def drop_expired_partitions(today: date, retention_days: int | None = None, table: str = TABLE) -> list[str]:
    """Drop the daily partitions older than the retention; return their names."""
    default = settings.HEMS_HISTORY_RETENTION_DAYS if table == TABLE else settings.HEMS_DEVICE_HISTORY_RETENTION_DAYS
    keep_from = today - timedelta(days=retention_days or default)
    if connection.vendor != "postgresql":  # one table, no partitions: delete the old rows
        column = "period_start" if table == TABLE else "hour_start"
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE {column} < %s",
                [datetime.combine(keep_from, datetime.min.time(), tzinfo=UTC)],
            )
        return []
    dropped = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = %s",
            [table],
        )
        for (name,) in cursor.fetchall():
            try:
                day = datetime.strptime(name.rsplit("_", 1)[1], "%Y%m%d").date()
            except ValueError:
                continue
            if day < keep_from:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
                dropped.append(name)
    return dropped


def buckets(owner_id: int, start: datetime, end: datetime, interval: str, zone: ZoneInfo) -> dict[datetime, dict]:
    """Energy per bucket of the home's local calendar, keyed by bucket start (aware).

    ``start`` must be a bucket start (floored by the caller). A tick counts in the
    bucket holding the start of the span it covered, so a bucket's figures are
    exactly the sum of its ticks.
    """
    if connection.vendor != "postgresql":
        return _buckets_python(owner_id, start, end, interval, zone)
    sums = ", ".join(f"sum({column})" for column in ENERGY)
    sql = f"""
        SELECT date_trunc(%s, period_start AT TIME ZONE %s) AS local_start, {sums}
        FROM {TABLE}
        WHERE owner_id = %s AND period_start >= %s AND period_start < %s
        GROUP BY 1
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [interval, zone.key, owner_id, start, end])
        rows = cursor.fetchall()
    result = {}
    for local_start, *values in rows:
        result[local_start.replace(tzinfo=zone)] = dict(zip(ENERGY, values, strict=True))
    return result


def _buckets_python(owner_id, start, end, interval, zone):
    from hems.energy.buckets import floor
    from hems.simulation.models import HomeEnergy

    result: dict[datetime, dict] = {}
    rows = HomeEnergy.objects.filter(owner_id=owner_id, period_start__gte=start, period_start__lt=end).values_list(
        "period_start", *ENERGY
    )
    for period_start, *values in rows:
        key = floor(period_start, interval, zone)
        bucket = result.setdefault(key, dict.fromkeys(ENERGY, 0.0))
        for name, value in zip(ENERGY, values, strict=True):
            bucket[name] += value
    return result


def empty_device_bucket() -> dict:
    """A device bucket with nothing recorded: no energy, no level."""
    return {**dict.fromkeys(DEVICE_ENERGY, 0.0), "level_wh": None}


def device_buckets(device_id: int, start: datetime, end: datetime, interval: str, zone: ZoneInfo) -> dict:
    """A device's energy per bucket of its home's calendar, from its hourly rows, and
    ``level_wh``: a storage device's level at the end of the bucket's last hour that
    recorded one (None if none did: not storage, or hours older than the column)."""
    from hems.energy.buckets import floor

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT hour_start, {', '.join(DEVICE_ENERGY)}, level_wh FROM {DEVICE_TABLE} "
            "WHERE device_id = %s AND hour_start >= %s AND hour_start < %s ORDER BY hour_start",
            [device_id, start, end],
        )
        rows = cursor.fetchall()
    result: dict[datetime, dict] = {}
    for hour_start, *values, level in rows:
        if timezone.is_naive(hour_start):
            hour_start = hour_start.replace(tzinfo=UTC)
        bucket = result.setdefault(floor(hour_start, interval, zone), empty_device_bucket())
        for name, value in zip(DEVICE_ENERGY, values, strict=True):
            bucket[name] += value
        if level is not None:  # hours in order: the bucket's last recorded level wins
            bucket["level_wh"] = level
    return result
