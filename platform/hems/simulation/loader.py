"""Load a shard: its homes, and per kind its devices' configuration and state.

Configuration changes rarely, state every minute. Each process keeps a shard's
configuration between ticks, with a version (count, ids and update times of the
shard's devices and homes, read from an index) checked every tick. While it holds,
a tick reads only the narrow state rows: one query. When it moves, the shard is read
whole again: its devices with their state in one query, each kind's attributes in
one more, and the homes. Rows arrive packed by the server into one value
(``pgcopy.packed_rows``), decoded without a loop over rows.

The process also keeps the state rows as its ticks left them (``stored``), with the
transaction that last wrote each (its ``xmin``): while the configuration holds, the next
tick reads only the state rows someone else wrote since, usually none.

A row's ``simulated_at`` is when a tick last changed it (the tick rewrites only rows
whose state changed): the loaded rows carry the instant each device was last
simulated, the later of that and the latest tick over its owner (``ticked``).
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace

import numpy as np
from django.conf import settings
from django.db import connection, models

from hems.plugins import Registry
from hems.sdk.kinds import DeviceKind
from hems.sdk.simulation import State
from hems.sdk.types import DeviceType
from hems.simulation import ticked
from hems.simulation.pgcopy import PG_EPOCH_S, epoch_seconds, packed_rows

HOUR_ENERGY = ("energy_wh", "charge_wh", "discharge_wh")
# The ended hour a state row holds until the device's filing minute (all NaN: none).
CLOSED_HOUR = ("closed_start", *(f"closed_{name}" for name in HOUR_ENERGY), "closed_level_wh")
# What a live device's reports leave for the tick (read only for shards with live devices).
REPORT_COLUMNS = [
    ("reported_at", "COALESCE(s.reported_at, '-infinity')", "timestamptz"),
    ("pending_energy_wh", "s.pending_energy_wh", "float8"),
    ("pending_charge_wh", "s.pending_charge_wh", "float8"),
    ("pending_discharge_wh", "s.pending_discharge_wh", "float8"),
]

# (SQL expression, binary type) of the common columns, none of them NULL.
# Timestamps travel in PostgreSQL's own binary form (see pgcopy): no conversion per row.
STATE_COLUMNS = [
    ("id", "d.id::int8", "int8"),
    ("owner", "d.owner_id::int8", "int8"),
    ("online", "d.status = 'online'", "bool"),
    ("live_source", "d.source = 'live'", "bool"),
    ("available", "s.available", "bool"),
    ("power_w", "s.power_w", "float8"),
    ("flow_w", "s.flow_w", "float8"),
    ("level_wh", "COALESCE(s.level_wh, 'NaN')", "float8"),
    ("capacity_wh", "COALESCE(s.capacity_wh, 'NaN')", "float8"),
    ("since", "COALESCE(s.since, '-infinity')", "timestamptz"),
    ("aux", "COALESCE(s.aux, 'NaN')", "float8"),
    ("simulated_at", "COALESCE(s.simulated_at, '-infinity')", "timestamptz"),
    ("hour_start", "COALESCE(s.hour_start, '-infinity')", "timestamptz"),
    ("hour_energy_wh", "s.hour_energy_wh", "float8"),
    ("hour_charge_wh", "s.hour_charge_wh", "float8"),
    ("hour_discharge_wh", "s.hour_discharge_wh", "float8"),
    ("closed_start", "COALESCE(s.closed_hour_start, '-infinity')", "timestamptz"),
    *[(name, f"COALESCE(s.{name}, 'NaN')", "float8") for name in CLOSED_HOUR[1:]],
    ("xmin", "s.xmin::text::int8", "int8"),  # the transaction that wrote the row (``stored``)
    ("updated_us", "d.updated_at", "timestamptz"),
]
TIMESTAMPS = {name for name, _, pg_type in STATE_COLUMNS + REPORT_COLUMNS if pg_type == "timestamptz"}


def native(rows: np.ndarray, name: str, dtype=float) -> np.ndarray:
    """One decoded column: timestamps as seconds since 1970 (NaN for none), except
    ``updated_us``, microseconds since 1970 (exact: the shard version sums them)."""
    if name == "updated_us":
        return np.ascontiguousarray(rows[name], dtype=np.int64) + PG_EPOCH_S * 1_000_000
    if name in TIMESTAMPS:
        return epoch_seconds(rows[name])
    return np.ascontiguousarray(rows[name], dtype=dtype)


@dataclass
class Homes:
    owner: np.ndarray  # int64, sorted
    latitude: np.ndarray
    longitude: np.ndarray
    time_zone: np.ndarray  # str


@dataclass
class KindRows:
    kind: DeviceKind
    ids: np.ndarray
    owner: np.ndarray
    online: np.ndarray  # bool: the configured status
    state: State
    capacity_wh: np.ndarray
    simulated_at: np.ndarray  # seconds since the epoch, NaN if never
    config: dict[str, np.ndarray]
    # The running hour: start (epoch) and energies; and the ended hour waiting to be
    # filed (CLOSED_HOUR: its start, energies and end level; NaN where none waits).
    hour: dict[str, np.ndarray] | None = None
    updated_us: np.ndarray | None = None  # each device's updated_at, in microseconds
    live_source: np.ndarray | None = None  # bool: the device reports its own state (not simulated)
    reports: dict[str, np.ndarray] | None = None  # live devices: reported_at (epoch) and pending energies
    xmin: np.ndarray | None = None  # int64: the transaction that wrote each state row as read (0: unknown)

    def __post_init__(self) -> None:
        n = len(self.ids)
        if self.hour is None:
            self.hour = {"start": np.full(n, np.nan), **{name: np.zeros(n) for name in HOUR_ENERGY}}
        for name in CLOSED_HOUR:
            self.hour.setdefault(name, np.full(n, np.nan))
        if self.updated_us is None:
            self.updated_us = np.zeros(n, dtype=np.int64)
        if self.live_source is None:
            self.live_source = np.zeros(n, dtype=bool)
        if self.reports is None:
            self.reports = no_reports(n)
        if self.xmin is None:
            self.xmin = np.zeros(n, dtype=np.int64)

    def take(self, index) -> KindRows:
        return KindRows(
            kind=self.kind,
            ids=self.ids[index],
            owner=self.owner[index],
            online=self.online[index],
            state=self.state.take(index),
            capacity_wh=self.capacity_wh[index],
            simulated_at=self.simulated_at[index],
            config={name: values[index] for name, values in self.config.items()},
            hour={name: values[index] for name, values in self.hour.items()},
            updated_us=self.updated_us[index],
            live_source=self.live_source[index],
            reports={name: values[index] for name, values in self.reports.items()},
            xmin=self.xmin[index],
        )

    def merged(self, other: KindRows) -> KindRows:
        """These devices and ``other``'s together, in id order."""

        def join(a, b):
            return np.concatenate([a, b])

        both = KindRows(
            kind=self.kind,
            ids=join(self.ids, other.ids),
            owner=join(self.owner, other.owner),
            online=join(self.online, other.online),
            state=State(
                **{f: join(getattr(self.state, f), getattr(other.state, f)) for f in State.__dataclass_fields__}
            ),
            capacity_wh=join(self.capacity_wh, other.capacity_wh),
            simulated_at=join(self.simulated_at, other.simulated_at),
            config={name: join(values, other.config[name]) for name, values in self.config.items()},
            hour={name: join(values, other.hour[name]) for name, values in self.hour.items()},
            updated_us=join(self.updated_us, other.updated_us),
            live_source=join(self.live_source, other.live_source),
            reports={name: join(values, other.reports[name]) for name, values in self.reports.items()},
            xmin=join(self.xmin, other.xmin),
        )
        return both.take(np.argsort(both.ids, kind="stable"))

    def __len__(self) -> int:
        return len(self.ids)


def no_reports(n: int) -> dict[str, np.ndarray]:
    return {"reported_at": np.full(n, np.nan), **{name: np.zeros(n) for name, _, _ in REPORT_COLUMNS[1:]}}


@dataclass
class ConfigColumn:
    """How one attribute travels: an SQL expression of fixed width, and how to decode it."""

    name: str
    sql: str
    pg_type: str
    labels: list[str] | None = None  # text: code i means labels[i]


def config_columns(kind: DeviceKind, frm: str, lo: int, hi: int) -> list[ConfigColumn]:
    """The kind's attributes as fixed-width columns: numbers as float8 (NaN for NULL),
    booleans, times of day as float8 hours, text as a code into a list of labels
    (the choices, or the distinct values found in the shard)."""
    result = []
    for name in kind.fields:
        try:
            field = kind.model._meta.get_field(name)
        except Exception:
            continue  # a property such as level_wh: the state carries it
        column = f"k.{connection.ops.quote_name(field.column)}"
        if isinstance(field, models.BooleanField):
            result.append(ConfigColumn(name, f"COALESCE({column}, false)", "bool"))
        elif isinstance(field, models.TimeField):
            result.append(
                ConfigColumn(name, f"COALESCE(EXTRACT(EPOCH FROM {column})::float8 / 3600.0::float8, 'NaN')", "float8")
            )
        elif isinstance(field, (models.DateTimeField, models.DateField)):
            result.append(ConfigColumn(name, f"COALESCE(EXTRACT(EPOCH FROM {column})::float8, 'NaN')", "float8"))
        elif isinstance(field, (models.FloatField, models.IntegerField, models.DecimalField)):
            result.append(ConfigColumn(name, f"COALESCE({column}::float8, 'NaN')", "float8"))
        else:
            if field.choices:
                labels = [str(value) for value, _ in field.flatchoices]
            else:
                with connection.cursor() as cursor:
                    cursor.execute(f"SELECT DISTINCT COALESCE({column}::text, '') {frm}", [lo, hi])
                    labels = sorted(row[0] for row in cursor.fetchall())
            # Text outside the labels (not possible through validation) decodes as "".
            result.append(ConfigColumn(name, column, "int4", labels=["", *labels]))
    return result


def load_homes(lo: int, hi: int, owners: np.ndarray) -> Homes:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT owner_id, latitude, longitude, time_zone FROM hems_home "
            "WHERE owner_id >= %s AND owner_id < %s ORDER BY owner_id",
            [lo, hi],
        )
        rows = cursor.fetchall()
    known = {row[0]: row for row in rows}
    # A device's owner without a home profile (bulk-created users) uses the defaults.
    for owner in np.unique(owners):
        known.setdefault(
            int(owner),
            (
                int(owner),
                settings.HEMS_DEFAULT_LATITUDE,
                settings.HEMS_DEFAULT_LONGITUDE,
                settings.HEMS_DEFAULT_TIME_ZONE,
            ),
        )
    ordered = [known[key] for key in sorted(known)]
    columns = list(zip(*ordered, strict=True)) if ordered else [(), (), (), ()]
    return Homes(
        owner=np.array(columns[0], dtype=np.int64),
        latitude=np.array(columns[1], dtype=float),
        longitude=np.array(columns[2], dtype=float),
        time_zone=np.array(columns[3], dtype=str),
    )


def load_kind(
    kind: DeviceKind,
    lo: int,
    hi: int,
    changed_since_us: int | None = None,
    ids: tuple[int, int] | None = None,
) -> KindRows:
    """The shard's devices of one kind with their state and attributes, packed by the
    server (``pgcopy.packed_rows``): one query (two with a free-text attribute),
    decoded without a loop over rows.
    With ``changed_since_us``, only the devices updated since then; with ``ids``, the
    smallest and largest id of the shard's devices, only the kind's rows between them
    are scanned (else the planner hashes the whole kind table for every shard)."""
    model = kind.model
    table = connection.ops.quote_name(model._meta.db_table)
    pointer = connection.ops.quote_name(model._meta.pk.column)
    frm = (
        f"FROM {table} k JOIN hems_device d ON d.id = k.{pointer} "
        "JOIN hems_device_state s ON s.device_id = d.id WHERE d.owner_id >= %s AND d.owner_id < %s"
    )
    if ids is not None:
        frm += f" AND k.{pointer} >= {int(ids[0])} AND k.{pointer} <= {int(ids[1])}"
    if changed_since_us is not None:
        frm += f" AND d.updated_at >= to_timestamp({int(changed_since_us)} / 1000000.0)"
    config = config_columns(kind, frm, lo, hi)
    expressions = [sql for _, sql, _ in STATE_COLUMNS] + attribute_expressions(config)
    query = f"SELECT {', '.join(expressions)} {frm % (int(lo), int(hi))}"
    layout = [(name, pg_type) for name, _, pg_type in STATE_COLUMNS] + [(f"c_{c.name}", c.pg_type) for c in config]
    rows = rows_by_id(query, layout)
    return device_rows(kind, rows, decode_attributes(config, rows))


def rows_by_id(query: str, layout: list[tuple[str, str]]) -> np.ndarray:
    """The rows of ``query`` (its first column ``id``), packed by the server, in id
    order: they arrive in no particular one, and sorting them here is cheaper than the
    server's sort, which spills to disk (105 ms against 36 ms per 125,000 rows)."""
    with connection.cursor() as cursor:
        rows = packed_rows(cursor, query, layout)
    return rows[np.argsort(rows["id"], kind="stable")]


def device_rows(kind: DeviceKind, rows: np.ndarray, config: dict[str, np.ndarray]) -> KindRows:
    """One kind's KindRows from rows of ``STATE_COLUMNS`` and its decoded attributes."""
    return KindRows(
        kind=kind,
        ids=native(rows, "id", np.int64),
        owner=native(rows, "owner", np.int64),
        online=native(rows, "online", bool),
        **live(kind, rows),
        config=config,
        updated_us=native(rows, "updated_us"),
        live_source=native(rows, "live_source", bool),
    )


def attribute_expressions(config: list[ConfigColumn]) -> list[str]:
    """The SELECT expressions of the attributes: text as its code in the labels."""
    expressions = []
    for column in config:
        if column.labels is None:
            expressions.append(column.sql)
        else:
            labels = ", ".join(quote(label) for label in column.labels[1:])
            expressions.append(f"COALESCE(array_position(ARRAY[{labels}]::text[], {column.sql}::text), 0)")
    return expressions


def decode_attributes(config: list[ConfigColumn], rows: np.ndarray) -> dict[str, np.ndarray]:
    arrays = {}
    for column in config:
        if column.labels is None:
            arrays[column.name] = native(rows, f"c_{column.name}", bool if column.pg_type == "bool" else float)
        else:
            arrays[column.name] = np.array(column.labels, dtype=str)[native(rows, f"c_{column.name}", np.int64)]
    return arrays


def live(kind: DeviceKind, rows: np.ndarray) -> dict:
    """The KindRows fields that come from the state rows."""
    storage = kind.device_type == DeviceType.STORAGE
    return {
        "state": State(
            available=native(rows, "available", bool),
            power_w=native(rows, "power_w"),
            flow_w=native(rows, "flow_w"),
            level_wh=native(rows, "level_wh") if storage else np.full(len(rows), np.nan),
            since=native(rows, "since"),
            aux=native(rows, "aux"),
        ),
        "capacity_wh": native(rows, "capacity_wh"),
        "simulated_at": native(rows, "simulated_at"),
        "hour": {
            "start": native(rows, "hour_start"),
            **{name: native(rows, f"hour_{name}") for name in HOUR_ENERGY},
            **{name: native(rows, name) for name in CLOSED_HOUR},
        },
        "xmin": native(rows, "xmin", np.int64),
    }


def quote(text: str) -> str:
    """An SQL string literal (labels come from the database or the model's choices)."""
    return "'" + text.replace("'", "''") + "'"


def id_bounds(lo: int, hi: int) -> tuple[int, int]:
    """The smallest and largest id of the shard's devices ((0, -1) when it has none)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM hems_device WHERE owner_id >= %s AND owner_id < %s", [lo, hi])
        first, last = cursor.fetchone()
    return (0, -1) if first is None else (int(first), int(last))


def load_whole_shard(registry: Registry, lo: int, hi: int) -> tuple[Homes, list[KindRows]]:
    """The shard read whole: its devices with their state in one query, then each
    kind's attributes from the kind's table alone, between the shard's smallest and
    largest device id (joining every kind's table to the devices and states costs a
    scan of the shard's devices per kind: three times as long)."""
    devices = load_devices(lo, hi)
    ids = native(devices, "id", np.int64)
    kinds = [
        kind_rows(kind, devices, ids, load_attributes(kind, ids))
        for kind in registry.kinds.values()
        if kind.simulate is not None
    ]
    owners = np.concatenate([rows.owner for rows in kinds]) if kinds else np.zeros(0, dtype=np.int64)
    return load_homes(lo, hi, owners), kinds


def load_devices(lo: int, hi: int) -> np.ndarray:
    """The shard's devices, every kind, with their state rows, in id order."""
    # The state's owner range lets the planner join two range scans rather than look
    # up each device's state by its key.
    query = (
        f"SELECT {', '.join(sql for _, sql, _ in STATE_COLUMNS)} FROM hems_device d "
        "JOIN hems_device_state s ON s.device_id = d.id "
        f"AND s.owner_id >= {int(lo)} AND s.owner_id < {int(hi)} "
        f"WHERE d.owner_id >= {int(lo)} AND d.owner_id < {int(hi)}"
    )
    return rows_by_id(query, [(name, pg_type) for name, _, pg_type in STATE_COLUMNS])


def load_attributes(kind: DeviceKind, ids: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The kind's attributes of its devices with ids between the smallest and largest of
    ``ids`` (sorted), in id order: a superset of the shard's, cut by :func:`kind_rows`."""
    table = connection.ops.quote_name(kind.model._meta.db_table)
    pointer = connection.ops.quote_name(kind.model._meta.pk.column)
    frm = f"FROM {table} k WHERE k.{pointer} >= %s AND k.{pointer} <= %s"
    first, last = (int(ids[0]), int(ids[-1])) if len(ids) else (0, -1)  # none: every attribute, empty
    config = config_columns(kind, frm, first, last)
    expressions = [f"k.{pointer}::int8", *attribute_expressions(config)]
    query = f"SELECT {', '.join(expressions)} {frm % (first, last)}"
    layout = [("id", "int8"), *[(f"c_{c.name}", c.pg_type) for c in config]]
    rows = rows_by_id(query, layout)
    return native(rows, "id", np.int64), decode_attributes(config, rows)


def kind_rows(
    kind: DeviceKind, devices: np.ndarray, ids: np.ndarray, attributes: tuple[np.ndarray, dict[str, np.ndarray]]
) -> KindRows:
    """One kind's KindRows: its attribute rows that are the shard's devices, joined in
    numpy to those devices' common columns and state."""
    kind_ids, arrays = attributes
    at = np.searchsorted(ids, kind_ids).clip(0, max(len(ids) - 1, 0))
    member = (ids[at] == kind_ids) if len(ids) else np.zeros(0, dtype=bool)
    return device_rows(kind, devices[at[member]], {name: values[member] for name, values in arrays.items()})


@dataclass
class Written:
    """The shard's rows as this process's ticks left them (``stored``), each with the
    transaction that last wrote it (``KindRows.xmin``), and when the last tick was
    (this process's monotonic clock)."""

    kinds: list[KindRows]
    at: float = field(default_factory=time.monotonic)


# A transaction id is 32 bits and wraps around: one kept longer than this could, in
# principle, match a row written much later by another transaction with the same id.
# No PostgreSQL runs through 2^32 transactions in an hour; a row the tick leaves
# unchanged for long is rewritten before its id can come round (``stored.XMIN_MAX_AGE``).
WRITTEN_MAX_AGE_S = 3600.0


@dataclass
class CachedShard:
    version: tuple
    registry: Registry
    homes: Homes
    kinds: list[KindRows]
    written: Written | None = None
    counters: tuple | None = None  # owner_version() when ``version`` was read


_cache: dict[tuple[int, int], CachedShard] = {}

STATE_ONLY = [
    ("id", "s.device_id::int8", "int8"),
    *[column for column in STATE_COLUMNS if column[0] not in {"id", "owner", "online", "live_source", "updated_us"}],
]

# A change committed later than a newer one (a slow transaction) may carry an older
# updated_at: an incremental refresh looks this far back, and the version check after
# it sends anything it still misses to a full reload.
REFRESH_WINDOW_US = 5 * 60 * 1_000_000

# How each shard load went, for tests and logs: cached, refreshed or full.
loads: Counter = Counter()
# How often the exact version was read (the owner counters had moved, or no cache).
versions_read: Counter = Counter()
# How its state rows were read: "all", or only those "changed" since this process wrote them
# (and how many "rows again" that read).
state_reads: Counter = Counter()


def microseconds_sum(alias: str) -> str:
    """SQL for the exact sum of ``updated_at`` in microseconds since 1970: whole seconds
    and the microseconds within them summed as integers. (``EXTRACT(EPOCH ...)`` is exact
    too but computes in ``numeric``, twice as slow; a float sum would not be exact.)"""
    column = f"{alias}updated_at"
    return (
        f"(COALESCE(sum(floor(date_part('epoch', {column}))::int8), 0) * 1000000 "
        f"+ COALESCE(sum(date_part('microseconds', {column})::int8 %% 1000000), 0))"  # %% : the query takes parameters
    )


def shard_version(lo: int, hi: int) -> tuple[int, ...]:
    """(count, sum of updated_at in microseconds, max id, sum of ids) of the shard's
    devices, then (count, sum of updated_at) of its homes: any committed change to a
    device or home moves it, whatever order transactions commit in."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), {microseconds_sum('')}, COALESCE(max(id), 0), COALESCE(sum(id), 0), "
            f"(SELECT count(*) FROM hems_home h WHERE h.owner_id >= %s AND h.owner_id < %s), "
            f"(SELECT {microseconds_sum('h.')} FROM hems_home h WHERE h.owner_id >= %s AND h.owner_id < %s) "
            "FROM hems_device WHERE owner_id >= %s AND owner_id < %s",
            [lo, hi, lo, hi, lo, hi],
        )
        return tuple(int(value) for value in cursor.fetchone())


# Owners per counter of ``hems_owner_version`` (fixed by migration simulation.0006).
OWNERS_PER_BLOCK = 16


def owner_version(lo: int, hi: int) -> tuple[int, int]:
    """(count, sum) of the counters of the owner blocks that the shard's owners fall in
    (migration ``simulation.0006``): every committed change to one of its devices or
    homes moves them, and nothing moves them back, so while they hold, so does
    :func:`shard_version`. (A block on the shard's edge moves with the next shard's
    changes too: that only costs an exact read.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), COALESCE(sum(version), 0) FROM hems_owner_version WHERE block >= %s AND block <= %s",
            [lo // OWNERS_PER_BLOCK, (hi - 1) // OWNERS_PER_BLOCK],
        )
        return tuple(int(value) for value in cursor.fetchone())


def local_version(kinds: list[KindRows]) -> tuple[int, ...]:
    """The device half of :func:`shard_version`, computed from cached rows."""
    ids = np.concatenate([k.ids for k in kinds]) if kinds else np.zeros(0, dtype=np.int64)
    updated = np.concatenate([k.updated_us for k in kinds]) if kinds else np.zeros(0, dtype=np.int64)
    return (
        len(ids),
        int(updated.astype(object).sum()) if len(ids) else 0,
        int(ids.max()) if len(ids) else 0,
        int(ids.astype(object).sum()) if len(ids) else 0,
    )


def load_states(lo: int, hi: int) -> np.ndarray:
    """The shard's state rows, in device id order."""
    query = (
        f"SELECT {', '.join(sql for _, sql, _ in STATE_ONLY)} FROM hems_device_state s "
        f"WHERE s.owner_id >= {int(lo)} AND s.owner_id < {int(hi)}"
    )
    return rows_by_id(query, [(name, pg_type) for name, _, pg_type in STATE_ONLY])


def changed_states(written: Written, lo: int, hi: int) -> list[KindRows] | None:
    """The rows as this process's ticks left them, with the state rows anyone else wrote
    since read again: those whose ``xmin`` is none of the transactions the kept rows
    were written by (a row's ``xmin`` is always the transaction that wrote its current
    version, so a kept row with one of them is as kept, and a row someone else wrote
    carries theirs). None when one of those is a device it does not know (read
    everything instead)."""
    known = np.unique(np.concatenate([k.xmin for k in written.kinds])) if written.kinds else []
    xids = ",".join(str(int(xid)) for xid in known)
    query = (
        f"SELECT {', '.join(sql for _, sql, _ in STATE_ONLY)} FROM hems_device_state s "
        f"WHERE s.owner_id >= {int(lo)} AND s.owner_id < {int(hi)} AND NOT s.xmin = ANY('{{{xids}}}'::xid[])"
    )
    rows = rows_by_id(query, [(name, pg_type) for name, _, pg_type in STATE_ONLY])
    state_reads["rows again"] += len(rows)
    if not len(rows):
        return written.kinds
    ids = native(rows, "id", np.int64)
    kinds, found = [], 0
    for k in written.kinds:
        at = np.searchsorted(ids, k.ids).clip(0, len(ids) - 1)
        hit = ids[at] == k.ids
        if hit.any():
            fresh = live(k.kind, rows[at])
            state = State(**{f: np.where(hit, getattr(fresh["state"], f), getattr(k.state, f)) for f in STATE_FIELDS})
            hour = {name: np.where(hit, values, k.hour[name]) for name, values in fresh["hour"].items()}
            k = replace(
                k,
                state=state,
                capacity_wh=np.where(hit, fresh["capacity_wh"], k.capacity_wh),
                simulated_at=np.where(hit, fresh["simulated_at"], k.simulated_at),
                hour=hour,
                xmin=np.where(hit, fresh["xmin"], k.xmin),
            )
            found += int(hit.sum())
        kinds.append(k)
    return kinds if found == len(ids) else None


STATE_FIELDS = tuple(State.__dataclass_fields__)


def remember_written(lo: int, hi: int, kinds: list[KindRows] | None) -> None:
    """Keep the shard's rows as the tick just left them (``stored.rows_as_written``) for
    the next tick's load; None forgets them (the next tick reads every row)."""
    cached = _cache.get((lo, hi))
    if cached is not None:
        if kinds is None:
            cached.written = None
        else:
            order = {rows.kind.key: i for i, rows in enumerate(cached.kinds)}  # the engine's order is its own
            cached.written = Written(sorted(kinds, key=lambda rows: order.get(rows.kind.key, len(order))))


def with_states(rows: KindRows, states: np.ndarray, ids: np.ndarray) -> KindRows | None:
    """The cached configuration with fresh state; None if a device's state is gone."""
    if not len(rows.ids):
        return rows
    at = np.searchsorted(ids, rows.ids)
    if (at >= len(ids)).any() or (ids[at] != rows.ids).any():
        return None
    return replace(rows, **live(rows.kind, states[at]))


def refreshed(cached: CachedShard, version: tuple[int, ...], lo: int, hi: int) -> CachedShard | None:
    """The cache brought up to ``version`` by reading only what changed, or None when
    that cannot account for the version (deleted devices, a very late commit)."""
    kinds = cached.kinds
    if version[:4] != cached.version[:4]:
        newest = max((int(k.updated_us.max()) for k in kinds if len(k.ids)), default=0)
        ids = id_bounds(lo, hi)
        changed = [load_kind(k.kind, lo, hi, changed_since_us=newest - REFRESH_WINDOW_US, ids=ids) for k in kinds]
        changed_ids = np.concatenate([c.ids for c in changed]) if changed else np.zeros(0, dtype=np.int64)
        kinds = [old.take(~np.isin(old.ids, changed_ids)).merged(new) for old, new in zip(kinds, changed, strict=True)]
        if local_version(kinds) != version[:4]:
            return None
    homes = cached.homes
    owners = np.concatenate([k.owner for k in kinds]) if kinds else np.zeros(0, dtype=np.int64)
    # A new home, or a device of an owner the cached homes do not know (a user created
    # in bulk without a home profile gets the defaults): read the homes again.
    if version[4:] != cached.version[4:] or not np.isin(owners, homes.owner).all():
        homes = load_homes(lo, hi, owners)
    return CachedShard(version, cached.registry, homes, kinds)


def with_reports(kinds: list[KindRows], lo: int, hi: int) -> list[KindRows]:
    """Add what live devices' reports left in their state rows: one more query, only for
    a shard that has live devices (an all-simulated shard reads nothing more)."""
    if not any(k.live_source.any() for k in kinds):
        return kinds
    query = (
        f"SELECT s.device_id::int8, {', '.join(sql for _, sql, _ in REPORT_COLUMNS)} FROM hems_device_state s "
        f"JOIN hems_device d ON d.id = s.device_id WHERE d.source = 'live' "
        f"AND s.owner_id >= {int(lo)} AND s.owner_id < {int(hi)}"
    )
    rows = rows_by_id(query, [("id", "int8"), *[(name, pg_type) for name, _, pg_type in REPORT_COLUMNS]])
    ids = native(rows, "id", np.int64)
    decoded = {name: native(rows, name) for name, _, _ in REPORT_COLUMNS}
    result = []
    for k in kinds:
        reports = no_reports(len(k))
        if len(ids) and k.live_source.any():
            at = np.searchsorted(ids, k.ids).clip(0, len(ids) - 1)
            found = k.live_source & (ids[at] == k.ids)
            reports = {name: np.where(found, decoded[name][at], reports[name]) for name in reports}
        result.append(replace(k, reports=reports))
    return result


def load_shard(registry: Registry, lo: int, hi: int) -> tuple[Homes, list[KindRows]]:
    """The shard's homes and devices, from this process's cache when it still holds,
    refreshed with just the changed rows when it can be, read whole otherwise."""
    if connection.vendor != "postgresql":
        from hems.simulation import portable_loader  # the embedded mode's simple path

        homes, kinds = portable_loader.load_shard(registry, lo, hi)
    else:
        homes, kinds = _load_shard(registry, lo, hi)
        kinds = with_reports(kinds, lo, hi)
    return homes, with_ticks(kinds, lo, hi)


def with_ticks(kinds: list[KindRows], lo: int, hi: int) -> list[KindRows]:
    """Each device's ``simulated_at``: the instant it was last simulated (``ticked``)."""
    found = ticked.ranges(lo, hi)
    return [replace(k, simulated_at=ticked.simulated_at(k.simulated_at, k.owner, found)) for k in kinds]


def _load_shard(registry: Registry, lo: int, hi: int) -> tuple[Homes, list[KindRows]]:
    # The counters first: a change committed between the two reads moves the counters
    # after these, so the next tick reads the exact version again.
    counters = owner_version(lo, hi)
    cached = _cache.get((lo, hi))
    if cached is not None and cached.counters == counters:
        version = cached.version
    else:
        version = shard_version(lo, hi)
        versions_read["exact"] += 1
    how = "cached"
    if cached is not None and cached.registry is registry and cached.version != version:
        cached, how = refreshed(cached, version, lo, hi), "refreshed"
    if cached is not None:
        cached.counters = counters
    if cached is not None and cached.registry is registry:
        written = cached.written
        if how == "cached" and written is not None and time.monotonic() - written.at < WRITTEN_MAX_AGE_S:
            # Nothing configured changed: only the state rows others wrote are read.
            kinds = changed_states(written, lo, hi)
            if kinds is not None:
                loads[how] += 1
                state_reads["changed"] += 1
                return cached.homes, kinds
        cached.written = None
        states = load_states(lo, hi)
        ids = native(states, "id", np.int64)
        kinds = [with_states(rows, states, ids) for rows in cached.kinds]
        if all(rows is not None for rows in kinds):
            _cache[(lo, hi)] = cached
            loads[how] += 1
            state_reads["all"] += 1
            return cached.homes, kinds
    homes, kinds = load_whole_shard(registry, lo, hi)
    _cache[(lo, hi)] = CachedShard(version, registry, homes, kinds, counters=counters)
    loads["full"] += 1
    state_reads["all"] += 1
    return homes, kinds


def preload(registry: Registry, ranges) -> int:
    """Read each shard of ``ranges`` ((lo, hi) owner ranges) whole into this process's
    cache; returns the devices read. A process forked from this one afterwards (a
    Celery pool process) inherits the cache, checked by the owner counters and the
    version like any other: its first tick of each shard reads only the state rows."""
    return sum(sum(len(k) for k in _load_shard(registry, lo, hi)[1]) for lo, hi in ranges)


def forget() -> None:
    """Drop every cached shard (tests that rewrite rows behind the ORM's back)."""
    _cache.clear()
