"""Energy history: the tables, their partitions and retention, and bucketed reads in
the home's time zone.

Per home: fine rows (one per tick, ``HEMS_HISTORY_TICK_DAYS``), the running hour, and
the completed hours and local days the tick rolls them up into
(``hems.simulation.rollup``), kept ``HEMS_HISTORY_RETENTION_DAYS``. Per device:
hourly rows (``HEMS_DEVICE_HISTORY_RETENTION_DAYS``) and local days (the long
retention). Readers take the coarsest rows that answer exactly."""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.utils import timezone

from hems.simulation.pgcopy import binary_rows

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


# The roll-up (migration 0005). Hours are stored as ``real``: 4 bytes a figure keeps a
# year of a home's hours under 1 MB with its index (float8 would not); a figure is
# exact to 1e-7 relative, well within a Wh. The running hour and the days add float8.
RUNNING_TABLE = "hems_home_energy_running"
HOUR_TABLE = "hems_home_energy_hour"
DAY_TABLE = "hems_home_energy_day"
DEVICE_DAY_TABLE = "hems_device_energy_day"


def as_real(expression: str) -> str:
    """SQL storing a non-negative float8 energy in a ``real`` column: PostgreSQL refuses
    a value that would round to zero (``underflow``), so a trace below 1e-30 Wh is 0."""
    return f"(CASE WHEN {expression} < 1e-30 THEN 0 ELSE {expression} END)"


def _energy_columns(kind: str) -> str:
    return ",\n    ".join(f"{name} {kind} NOT NULL" for name in ENERGY)


# ``day_start`` of the running hour is kept beside it: the local midnight the hour adds
# into when it completes (exact on DST days, computed once from the zone by the tick).
CREATE_RUNNING = f"""
CREATE TABLE {RUNNING_TABLE} (
    owner_id integer PRIMARY KEY,
    hour_start timestamptz NOT NULL,
    day_start timestamptz NOT NULL,
    {_energy_columns("double precision")}
)"""


def _rolled_up(table: str, start: str, kind: str) -> str:
    """A home's rolled-up rows, one per (home, local hour or day), partitioned by start."""
    return f"""
CREATE TABLE {table} (
    owner_id integer NOT NULL,
    {start} timestamptz NOT NULL,
    {_energy_columns(kind)},
    PRIMARY KEY (owner_id, {start})
) PARTITION BY RANGE ({start})"""


CREATE_HOUR = _rolled_up(HOUR_TABLE, "hour_start", "real")
CREATE_DAY = _rolled_up(DAY_TABLE, "day_start", "double precision")
CREATE_DEVICE_DAY = f"""
CREATE TABLE {DEVICE_DAY_TABLE} (
    device_id bigint NOT NULL,
    day_start timestamptz NOT NULL,
    energy_wh double precision NOT NULL,
    charge_wh double precision NOT NULL,
    discharge_wh double precision NOT NULL,
    level_wh double precision,
    PRIMARY KEY (device_id, day_start)
) PARTITION BY RANGE (day_start)"""


def create_other(statement: str) -> str:
    """A PostgreSQL CREATE TABLE as the embedded SQLite mode takes it: one plain table."""
    return statement.replace("timestamptz", "timestamp").split(") PARTITION BY")[0].rstrip() + (
        ")" if "PARTITION BY" in statement else ""
    )


# Each table's partitioning: its time column, the span of one partition, and the
# setting that holds its retention in days.
PARTITIONING = {
    TABLE: ("period_start", "day", "HEMS_HISTORY_TICK_DAYS"),
    DEVICE_TABLE: ("hour_start", "day", "HEMS_DEVICE_HISTORY_RETENTION_DAYS"),
    HOUR_TABLE: ("hour_start", "month", "HEMS_HISTORY_RETENTION_DAYS"),
    DAY_TABLE: ("day_start", "year", "HEMS_HISTORY_RETENTION_DAYS"),
    DEVICE_DAY_TABLE: ("day_start", "year", "HEMS_DEVICE_DAY_RETENTION_DAYS"),
}
FORMATS = {"day": "%Y%m%d", "month": "%Y%m", "year": "%Y"}


def retention_of(table: str) -> int:
    """A table's retention in days, from its setting."""
    name = PARTITIONING[table][2]
    if name == "HEMS_DEVICE_DAY_RETENTION_DAYS":  # the long history, as the homes'
        name = "HEMS_HISTORY_RETENTION_DAYS"
    return getattr(settings, name)


def period_floor(day: date, span: str) -> date:
    if span == "month":
        return day.replace(day=1)
    if span == "year":
        return day.replace(month=1, day=1)
    return day


def period_after(first: date, span: str) -> date:
    if span == "day":
        return first + timedelta(days=1)
    if span == "month":
        return date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return date(first.year + 1, 1, 1)


def partition_name(day: date, table: str = TABLE) -> str:
    span = PARTITIONING[table][1]
    return f"{table}_{period_floor(day, span).strftime(FORMATS[span])}"


def ensure_partitions(first: date, last: date, table: str = TABLE) -> None:
    """Create the partitions covering the UTC days [first, last] that do not exist yet."""
    ensure_partitions_of([(table, first, last)])


def ensure_partitions_of(ranges: list[tuple[str, date, date]]) -> None:
    """``ensure_partitions`` for several (table, first, last) at once: one query finds
    what is missing in all of them.

    Asks the catalogue each time (one cheap query) rather than remembering: a
    rolled-back transaction takes its partitions with it.
    """
    if connection.vendor != "postgresql":
        return
    wanted = {}  # partition name: (table, first day, span)
    for table, first, last in ranges:
        span = PARTITIONING[table][1]
        current = period_floor(first, span)
        while current <= last:
            wanted[partition_name(current, table)] = (table, current, span)
            current = period_after(current, span)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL", [list(wanted)])
        missing = {row[0] for row in cursor.fetchall()}
        if missing:
            # Shards running at once may both find a partition missing: creating it is
            # serialised (until this transaction ends), and checked again once waited for.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('hems_partitions'))")
            cursor.execute(
                "SELECT name FROM unnest(%s::text[]) AS name WHERE to_regclass(name) IS NULL", [sorted(missing)]
            )
            missing = {row[0] for row in cursor.fetchall()}
        for name, (table, day, span) in wanted.items():
            if name in missing:
                cursor.execute(
                    f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {table} "
                    f"FOR VALUES FROM ('{day.isoformat()} 00:00:00+00') "
                    f"TO ('{period_after(day, span).isoformat()} 00:00:00+00')"
                )


def utc_day(epoch_s: float) -> date:
    """The UTC date of an instant given in seconds since the epoch."""
    return datetime.fromtimestamp(float(epoch_s), UTC).date()


def ensure_partitions_between(first: float, last: float, table: str) -> None:
    """``ensure_partitions`` for instants given in seconds since the epoch."""
    ensure_partitions(utc_day(first), utc_day(last), table)


def drop_expired_partitions(today: date, retention_days: int | None = None, table: str = TABLE) -> list[str]:
    """Drop the partitions wholly older than the table's retention; return their names."""
    column, span, _ = PARTITIONING[table]
    keep_from = today - timedelta(days=retention_days or retention_of(table))
    if connection.vendor != "postgresql":  # one table, no partitions: delete the old rows
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
                first = datetime.strptime(name.removeprefix(f"{table}_"), FORMATS[span]).date()
            except ValueError:
                continue
            if period_after(first, span) <= keep_from:
                cursor.execute(f"DROP TABLE IF EXISTS {name}")
                dropped.append(name)
    return dropped


def aware(moment: datetime) -> datetime:
    """A timestamp as read back (SQLite gives naive UTC), aware in UTC."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return moment.replace(tzinfo=UTC) if timezone.is_naive(moment) else moment.astimezone(UTC)


def running_hour(owner_id: int) -> tuple[datetime, dict] | None:
    """A home's running hour: its start (the frontier of the rolled-up rows) and energy."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT hour_start, {', '.join(ENERGY)} FROM {RUNNING_TABLE} WHERE owner_id = %s", [owner_id])
        row = cursor.fetchone()
    if row is None:
        return None
    return aware(row[0]), dict(zip(ENERGY, row[1:], strict=True))


def day_floor(instant: datetime, zone: ZoneInfo) -> datetime:
    from hems.energy.buckets import floor

    return floor(instant, "day", zone).astimezone(UTC)


def buckets(owner_id: int, start: datetime, end: datetime, interval: str, zone: ZoneInfo) -> dict[datetime, dict]:
    """Energy per bucket of the home's local calendar, keyed by the bucket's start as a
    UTC instant (look buckets up with ``start.astimezone(UTC)``: equality of aware
    datetimes in one zone ignores ``fold``, which would merge a repeated hour).

    ``start`` must be a bucket start (floored by the caller). A tick counts in the
    bucket holding the start of the span it covered, so a bucket's figures are exactly
    the sum of its ticks. Read from the coarsest rows that answer: local days before
    the day of the running hour, completed hours after, and the running hour. A range
    ending inside an hour counts that whole hour (hours are the finest grain kept).
    """
    running = running_hour(owner_id)
    frontier = running[0] if running else end.astimezone(UTC)
    if interval == "hour":
        days_until = start  # no day rows
    else:
        days_until = max(start, min(day_floor(frontier, zone), day_floor(end, zone)))
    hours_until = min(end, frontier)
    if connection.vendor == "postgresql":
        return _grouped_in_sql(owner_id, start, end, interval, zone, days_until, hours_until)
    rows = _rows(owner_id, start, days_until, hours_until)
    if running and start <= running[0] < end:
        rows.append((running[0], *running[1].values()))
    from hems.energy.buckets import floor

    result: dict[datetime, dict] = {}
    for moment, *values in rows:
        key = floor(aware(moment), interval, zone).astimezone(UTC)
        bucket = result.setdefault(key, dict.fromkeys(ENERGY, 0.0))
        for name, value in zip(ENERGY, values, strict=True):
            bucket[name] += value
    return result


def _rows(owner_id, start, days_until, hours_until) -> list[tuple]:
    names = ", ".join(ENERGY)
    utc = [moment.astimezone(UTC) for moment in (start, days_until, hours_until)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT day_start, {names} FROM {DAY_TABLE} WHERE owner_id = %s AND day_start >= %s AND day_start < %s",
            [owner_id, utc[0], utc[1]],
        )
        rows = list(cursor.fetchall())
        cursor.execute(
            f"SELECT hour_start, {names} FROM {HOUR_TABLE} "
            "WHERE owner_id = %s AND hour_start >= %s AND hour_start < %s",
            [owner_id, max(utc[0], utc[1]), utc[2]],
        )
        rows += cursor.fetchall()
    return rows


# The bucket of each row as a float8 epoch (cheaper to read than a timestamptz or a
# numeric): a local calendar bucket's start, or for HOUR the local hour's start instant
# (the instant less the minutes and seconds past the local hour; exact on the repeated
# hour, and for rows aligned to a zone the home has since left).
BUCKET_SQL = {
    "hour": "(extract(epoch FROM t) - mod(extract(epoch FROM t AT TIME ZONE %(zone)s), 3600))::float8",
    "calendar": "extract(epoch FROM date_trunc(%(interval)s, t AT TIME ZONE %(zone)s) AT TIME ZONE %(zone)s)::float8",
}


def _grouped_in_sql(owner_id, start, end, interval, zone, days_until, hours_until) -> dict[datetime, dict]:
    names = ", ".join(ENERGY)
    sums = ", ".join(f"sum({name})" for name in ENERGY)
    bucket = BUCKET_SQL["hour" if interval == "hour" else "calendar"]
    sql = f"""
        SELECT {bucket}, {sums} FROM (
            SELECT day_start AS t, {names} FROM {DAY_TABLE}
            WHERE owner_id = %(owner)s AND day_start >= %(start)s AND day_start < %(days_until)s
            UNION ALL
            SELECT hour_start, {names} FROM {HOUR_TABLE}
            WHERE owner_id = %(owner)s AND hour_start >= %(hours_from)s AND hour_start < %(hours_until)s
            UNION ALL
            SELECT hour_start, {names} FROM {RUNNING_TABLE}
            WHERE owner_id = %(owner)s AND hour_start >= %(start)s AND hour_start < %(end)s
        ) AS rows GROUP BY 1
    """
    params = {
        "interval": interval, "zone": zone.key, "owner": owner_id, "start": start, "end": end,
        "days_until": days_until, "hours_from": max(start, days_until), "hours_until": hours_until,
    }  # fmt: skip
    with connection.cursor() as cursor:
        # A year by DAY is 365 rows of seven floats: in binary, none is written as text
        # and parsed back (1.3 ms for the query against 1.5 to 2.5 ms: BENCHMARKS, History).
        rows = binary_rows(cursor, sql, params)
    return {datetime.fromtimestamp(epoch, UTC): dict(zip(ENERGY, values, strict=True)) for epoch, *values in rows}


def hour_rows(owner_id: int, start: datetime, end: datetime) -> list[tuple]:
    """A home's completed hours starting in ``[start, end)``: (hour_start, *ENERGY)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT hour_start, {', '.join(ENERGY)} FROM {HOUR_TABLE} "
            "WHERE owner_id = %s AND hour_start >= %s AND hour_start < %s ORDER BY hour_start",
            [owner_id, start.astimezone(UTC), end.astimezone(UTC)],
        )
        return [(aware(moment), *values) for moment, *values in cursor.fetchall()]


def empty_device_bucket() -> dict:
    """A device bucket with nothing recorded: no energy, no level."""
    return {**dict.fromkeys(DEVICE_ENERGY, 0.0), "level_wh": None}


def device_buckets(
    device_id: int, start: datetime, end: datetime, interval: str, zone: ZoneInfo, current_hour: datetime | None = None
) -> dict:
    """A device's energy per bucket of its home's calendar, keyed by the bucket's start as
    a UTC instant, and ``level_wh``: a storage device's level at the end of the bucket's
    last hour that recorded one (None if none did: not storage, or hours older than the
    column).

    HOUR reads the hourly rows (kept ``HEMS_DEVICE_HISTORY_RETENTION_DAYS``: older hours
    read as nothing). DAY, WEEK and MONTH read the device's local days before the day of
    ``current_hour`` (its running hour, from its state row; an earlier one only reads
    more hours) and the hours after. The state row's hours count too, read in the same
    statement, so that a tick committing meanwhile is seen whole or not at all: the hour
    that ended and waits for its filing minute, and the hour under way (which ends, so
    far, at the level now).
    """
    from hems.energy.buckets import floor

    columns = f"{', '.join(DEVICE_ENERGY)}, level_wh"
    days_until = start
    if interval != "hour":
        days_until = max(start, day_floor(min(end, current_hour or end), zone))
    closed = ", ".join(f"closed_{name}" for name in DEVICE_ENERGY)
    running = ", ".join(f"hour_{name}" for name in DEVICE_ENERGY)
    utc = {
        "device": device_id, "start": start.astimezone(UTC), "days_until": days_until.astimezone(UTC),
        "end": end.astimezone(UTC),
    }  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT day_start, {columns} FROM {DEVICE_DAY_TABLE} "
            "WHERE device_id = %(device)s AND day_start >= %(start)s AND day_start < %(days_until)s "
            f"UNION ALL SELECT hour_start, {columns} FROM {DEVICE_TABLE} "
            "WHERE device_id = %(device)s AND hour_start >= %(days_until)s AND hour_start < %(end)s "
            f"UNION ALL SELECT closed_hour_start, {closed}, closed_level_wh FROM hems_device_state "
            "WHERE device_id = %(device)s AND closed_hour_start >= %(start)s AND closed_hour_start < %(end)s "
            f"UNION ALL SELECT hour_start, {running}, level_wh FROM hems_device_state "
            "WHERE device_id = %(device)s AND hour_start >= %(start)s AND hour_start < %(end)s ORDER BY 1",
            utc,
        )
        rows = cursor.fetchall()
    result: dict[datetime, dict] = {}
    for moment, *values, level in rows:
        bucket = result.setdefault(floor(aware(moment), interval, zone).astimezone(UTC), empty_device_bucket())
        for name, value in zip(DEVICE_ENERGY, values, strict=True):
            bucket[name] += value
        if level is not None:  # rows in order: the bucket's last recorded level wins
            bucket["level_wh"] = level
    return result


def compact_closed_partitions(today: date) -> list[str]:
    """Rebuild the primary key of each hour partition whose month has ended, packed full
    (fillfactor 100), once; return the partitions compacted.

    The roll-up inserts every home's hour in turn, so each home's run of keys grows in
    the middle of the index and its pages split half full (0.36 MB a home a year);
    a closed month takes (almost) no more inserts, so packed, its index is a third
    smaller (about 0.25 MB). CONCURRENTLY when not in a transaction (the maintenance
    task): readers and the roll-up carry on meanwhile.
    """
    if connection.vendor != "postgresql":
        return []
    month = today.replace(day=1)
    compacted = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, ic.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_index x ON x.indrelid = c.oid AND x.indisprimary "
            "JOIN pg_class ic ON ic.oid = x.indexrelid "
            "WHERE p.relname = %s AND NOT COALESCE(ic.reloptions @> ARRAY['fillfactor=100'], false)",
            [HOUR_TABLE],
        )
        for name, index in sorted(cursor.fetchall()):
            try:
                first = datetime.strptime(name.removeprefix(f"{HOUR_TABLE}_"), FORMATS["month"]).date()
            except ValueError:
                continue
            if period_after(first, "month") > month:
                continue  # this month or later: still filling
            cursor.execute(f"ALTER INDEX {index} SET (fillfactor = 100)")
            concurrently = "" if connection.in_atomic_block else " CONCURRENTLY"
            cursor.execute(f"REINDEX INDEX{concurrently} {index}")
            compacted.append(name)
    return compacted
