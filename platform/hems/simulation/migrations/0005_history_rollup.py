"""The rolled-up history (DESIGN.md "History"): each home's running hour, its completed
hours (``real``, partitioned by month) and local days (partitioned by year), and each
device's local days (partitioned by year).

History recorded before: the per-tick rows are rolled up here, one set-based statement
per table on PostgreSQL (each home's zone from ``hems_home``), so that nothing is lost
when the short per-tick window drops them: complete hours into the hour and day tables,
each home's last hour into its running row. The devices' hourly rows are rolled up into
their local days. Reversing drops the new tables; the per-tick and hourly rows are left
as they were.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db import migrations

from hems.simulation import history

ENERGY = history.ENERGY
NAMES = ", ".join(ENERGY)
NEW_TABLES = (history.RUNNING_TABLE, history.HOUR_TABLE, history.DAY_TABLE, history.DEVICE_DAY_TABLE)

# Each fine row's local hour (the instant less the minutes and seconds past the local
# hour: exact in quarter-hour zones and on the repeated hour) and local day.
HOURS = f"""
WITH hours AS (
    SELECT e.owner_id,
           e.period_start - make_interval(secs => mod(extract(epoch FROM e.period_start AT TIME ZONE z.zone), 3600)::float8)
               AS hour_start,
           date_trunc('day', e.period_start AT TIME ZONE z.zone) AT TIME ZONE z.zone AS day_start,
           {", ".join(f"sum(e.{name}) AS {name}" for name in ENERGY)}
    FROM {history.TABLE} e
    LEFT JOIN hems_home h ON h.owner_id = e.owner_id
    CROSS JOIN LATERAL (SELECT COALESCE(h.time_zone, %(zone)s) AS zone) z
    GROUP BY 1, 2, 3
), last AS (SELECT owner_id, max(hour_start) AS hour_start FROM hours GROUP BY 1)
"""
ADD = ", ".join(f"{name} = {{table}}.{name} + EXCLUDED.{name}" for name in ENERGY)
ROLL_UP_HOURS = f"""{HOURS}
INSERT INTO {history.HOUR_TABLE} (owner_id, hour_start, {NAMES})
SELECT h.owner_id, h.hour_start, {", ".join(history.as_real(f"h.{name}") for name in ENERGY)}
FROM hours h JOIN last l ON l.owner_id = h.owner_id WHERE h.hour_start < l.hour_start
ON CONFLICT (owner_id, hour_start) DO UPDATE SET {ADD.format(table=history.HOUR_TABLE)}
"""
ROLL_UP_DAYS = f"""{HOURS}
INSERT INTO {history.DAY_TABLE} (owner_id, day_start, {NAMES})
SELECT h.owner_id, h.day_start, {", ".join(f"sum(h.{name})" for name in ENERGY)}
FROM hours h JOIN last l ON l.owner_id = h.owner_id WHERE h.hour_start < l.hour_start GROUP BY 1, 2
ON CONFLICT (owner_id, day_start) DO UPDATE SET {ADD.format(table=history.DAY_TABLE)}
"""
ROLL_UP_RUNNING = f"""{HOURS}
INSERT INTO {history.RUNNING_TABLE} (owner_id, hour_start, day_start, {NAMES})
SELECT h.owner_id, h.hour_start, h.day_start, {", ".join(f"h.{name}" for name in ENERGY)}
FROM hours h JOIN last l ON l.owner_id = h.owner_id AND l.hour_start = h.hour_start
ON CONFLICT (owner_id) DO NOTHING
"""
ROLL_UP_DEVICE_DAYS = f"""
INSERT INTO {history.DEVICE_DAY_TABLE} (device_id, day_start, energy_wh, charge_wh, discharge_wh, level_wh)
SELECT e.device_id, date_trunc('day', e.hour_start AT TIME ZONE z.zone) AT TIME ZONE z.zone,
       sum(e.energy_wh), sum(e.charge_wh), sum(e.discharge_wh),
       (array_agg(e.level_wh ORDER BY e.hour_start DESC) FILTER (WHERE e.level_wh IS NOT NULL))[1]
FROM {history.DEVICE_TABLE} e
LEFT JOIN hems_device d ON d.id = e.device_id
LEFT JOIN hems_home h ON h.owner_id = d.owner_id
CROSS JOIN LATERAL (SELECT COALESCE(h.time_zone, %(zone)s) AS zone) z
GROUP BY 1, 2
"""


def span(cursor, table: str, column: str):
    cursor.execute(f"SELECT min({column}), max({column}) FROM {table}")
    return cursor.fetchone()


def create(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    statements = (history.CREATE_RUNNING, history.CREATE_HOUR, history.CREATE_DAY, history.CREATE_DEVICE_DAY)
    for statement in statements:
        if not postgres:
            statement = history.create_other(statement)
        elif statement is history.CREATE_RUNNING:
            statement += " WITH (fillfactor = 70)"  # updated every tick: room for HOT updates
        schema_editor.execute(statement)
    if postgres:
        roll_up_postgres(schema_editor.connection)
    else:
        roll_up_portable(schema_editor.connection)


def roll_up_postgres(connection):
    zone = {"zone": settings.HEMS_DEFAULT_TIME_ZONE}
    with connection.cursor() as cursor:
        first, last = span(cursor, history.TABLE, "period_start")
        if first is not None:
            history.ensure_partitions(first.date(), last.date(), history.HOUR_TABLE)
            history.ensure_partitions(
                datetime.fromtimestamp(first.timestamp() - 86400, UTC).date(), last.date(), history.DAY_TABLE
            )
            for statement in (ROLL_UP_HOURS, ROLL_UP_DAYS, ROLL_UP_RUNNING):
                cursor.execute(statement, zone)
        first, last = span(cursor, history.DEVICE_TABLE, "hour_start")
        if first is not None:
            history.ensure_partitions(
                datetime.fromtimestamp(first.timestamp() - 86400, UTC).date(), last.date(), history.DEVICE_DAY_TABLE
            )
            cursor.execute(ROLL_UP_DEVICE_DAYS, zone)


def roll_up_portable(connection):
    """The embedded SQLite mode: the same roll-up, in Python (a few homes)."""
    import numpy as np

    from hems.simulation import rollup

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.owner_id, e.period_start, h.time_zone, {', '.join(f'e.{n}' for n in ENERGY)} "
            f"FROM {history.TABLE} e LEFT JOIN hems_home h ON h.owner_id = e.owner_id ORDER BY 1, 2"
        )
        rows = cursor.fetchall()
        if rows:
            instants = np.array([history.aware(row[1]).timestamp() for row in rows])
            zones = np.array([row[2] or settings.HEMS_DEFAULT_TIME_ZONE for row in rows])
            hour_starts, day_starts = rollup.local_starts(instants, zones)
            hours: dict[tuple, list] = {}
            last: dict[int, float] = {}
            for row, hour, day in zip(rows, hour_starts.tolist(), day_starts.tolist(), strict=True):
                sums = hours.setdefault((row[0], hour, day), [0.0] * len(ENERGY))
                for i, value in enumerate(row[3:]):
                    sums[i] += value
                last[row[0]] = max(last.get(row[0], hour), hour)
            for (owner, hour, day), sums in sorted(hours.items()):
                when = [datetime.fromtimestamp(hour, UTC), datetime.fromtimestamp(day, UTC)]
                if hour == last[owner]:
                    table, columns, values = history.RUNNING_TABLE, "hour_start, day_start", when
                else:
                    cursor.execute(
                        f"INSERT INTO {history.DAY_TABLE} (owner_id, day_start, {NAMES}) VALUES (%s, %s"
                        + ", %s" * len(ENERGY)
                        + ") "
                        + rollup.ADD_TO_DAY,
                        [owner, when[1], *sums],
                    )
                    table, columns, values = history.HOUR_TABLE, "hour_start", when[:1]
                cursor.execute(
                    f"INSERT INTO {table} (owner_id, {columns}, {NAMES}) VALUES (%s"
                    + ", %s" * (len(values) + len(ENERGY))
                    + ")",
                    [owner, *values, *sums],
                )
        cursor.execute(
            f"SELECT device_id, hour_start, energy_wh, charge_wh, discharge_wh, level_wh FROM {history.DEVICE_TABLE} "
            "ORDER BY 2"
        )
        hours = [(row[0], history.aware(row[1]), *row[2:]) for row in cursor.fetchall()]
    if hours:
        rollup.device_days_portable(hours)


def drop(apps, schema_editor):
    for table in NEW_TABLES:
        schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    dependencies = [("simulation", "0004_device_energy_level")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
