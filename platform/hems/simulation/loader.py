"""Load a shard: its homes, and per kind its devices' configuration and state.

One query for the homes and one per kind, whatever the number of devices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connection, models

from hems.plugins import Registry
from hems.sdk.kinds import DeviceKind
from hems.sdk.simulation import State
from hems.sdk.types import DeviceType

STATE_COLUMNS = (
    "d.id", "d.owner_id", "d.status = 'online'", "s.available", "s.power_w", "s.flow_w",
    "COALESCE(s.level_wh, 'NaN')", "COALESCE(s.capacity_wh, 'NaN')",
    "COALESCE(EXTRACT(EPOCH FROM s.since)::float8, 'NaN')", "COALESCE(s.aux, 'NaN')",
    "COALESCE(EXTRACT(EPOCH FROM s.simulated_at)::float8, 'NaN')",
)  # fmt: skip


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

    def __len__(self) -> int:
        return len(self.ids)


def _config_column(kind: DeviceKind, name: str) -> tuple[str, str] | None:
    """(SQL expression, array kind) for one of a kind's attributes, or None."""
    try:
        field = kind.model._meta.get_field(name)
    except Exception:
        return None  # a property such as level_wh: the state carries it
    column = f"k.{connection.ops.quote_name(field.column)}"
    if isinstance(field, models.BooleanField):
        return f"COALESCE({column}, false)", "bool"
    if isinstance(field, models.TimeField):
        return f"COALESCE(EXTRACT(EPOCH FROM {column})::float8 / 3600.0, 'NaN')", "float"
    if isinstance(field, (models.DateTimeField, models.DateField)):
        return f"COALESCE(EXTRACT(EPOCH FROM {column})::float8, 'NaN')", "float"
    if isinstance(field, (models.FloatField, models.IntegerField, models.DecimalField)):
        return f"COALESCE({column}::float8, 'NaN')", "float"
    return f"COALESCE({column}::text, '')", "str"


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


def load_kind(kind: DeviceKind, lo: int, hi: int) -> KindRows:
    model = kind.model
    table = connection.ops.quote_name(model._meta.db_table)
    pointer = connection.ops.quote_name(model._meta.pk.column)
    config = [(name, _config_column(kind, name)) for name in kind.fields]
    config = [(name, spec) for name, spec in config if spec is not None]
    select = ", ".join([*STATE_COLUMNS, *(spec[0] for _, spec in config)])
    sql = (
        f"SELECT {select} FROM {table} k "
        f"JOIN hems_device d ON d.id = k.{pointer} "
        "JOIN hems_device_state s ON s.device_id = d.id "
        "WHERE d.owner_id >= %s AND d.owner_id < %s ORDER BY d.id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [lo, hi])
        rows = cursor.fetchall()
    width = len(STATE_COLUMNS) + len(config)
    columns = list(zip(*rows, strict=True)) if rows else [()] * width

    def floats(i):
        return np.array(columns[i], dtype=float)

    arrays = {}
    for offset, (name, (_, kind_of)) in enumerate(config):
        values = columns[len(STATE_COLUMNS) + offset]
        arrays[name] = (
            np.array(values, dtype=bool) if kind_of == "bool"
            else np.array(values, dtype=float) if kind_of == "float"
            else np.array(values, dtype=str) if len(values) else np.array([], dtype=str)
        )  # fmt: skip
    storage = kind.device_type == DeviceType.STORAGE
    state = State(
        available=np.array(columns[3], dtype=bool),
        power_w=floats(4),
        flow_w=floats(5),
        level_wh=floats(6) if storage else np.full(len(rows), np.nan),
        since=floats(8),
        aux=floats(9),
    )
    return KindRows(
        kind=kind,
        ids=np.array(columns[0], dtype=np.int64),
        owner=np.array(columns[1], dtype=np.int64),
        online=np.array(columns[2], dtype=bool),
        state=state,
        capacity_wh=floats(7),
        simulated_at=floats(10),
        config=arrays,
    )


def load_shard(registry: Registry, lo: int, hi: int) -> tuple[Homes, list[KindRows]]:
    kinds = [load_kind(kind, lo, hi) for kind in registry.kinds.values() if kind.simulate is not None]
    owners = np.concatenate([rows.owner for rows in kinds]) if kinds else np.zeros(0, dtype=np.int64)
    return load_homes(lo, hi, owners), kinds
