"""Load a shard through the ORM, for databases without the PostgreSQL fast path.

The embedded mode runs on SQLite with a home or two: the binary COPY, the
configuration cache and its version check are not worth their complexity there.
This builds the same :class:`~hems.simulation.loader.Homes` and
:class:`~hems.simulation.loader.KindRows`, decoded the same way (numbers as float
with NaN for NULL, times of day as hours, timestamps as epoch seconds, text as str),
so the engine and the drivers cannot tell which path fed them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

import numpy as np
from django.db import models

from hems.plugins import Registry
from hems.sdk.kinds import DeviceKind
from hems.sdk.simulation import State
from hems.sdk.types import DeviceType
from hems.simulation.loader import CLOSED_HOUR, HOUR_ENERGY, REPORT_COLUMNS, Homes, KindRows, load_homes


def epoch(moment: datetime | None) -> float:
    return np.nan if moment is None else moment.timestamp()


def number(value) -> float:
    return np.nan if value is None else float(value)


def decoder(field: models.Field):
    """How one attribute becomes an array element, as ``loader.config_columns`` does in SQL."""
    if isinstance(field, models.BooleanField):
        return bool, lambda value: bool(value)
    if isinstance(field, models.TimeField):
        return float, lambda value: np.nan if value is None else value.hour + value.minute / 60 + value.second / 3600
    if isinstance(field, models.DateTimeField):
        return float, epoch
    if isinstance(field, models.DateField):
        return float, lambda value: np.nan if value is None else datetime.combine(value, time(), tzinfo=UTC).timestamp()
    if isinstance(field, (models.FloatField, models.IntegerField, models.DecimalField)):
        return float, number
    if field.choices:
        labels = {str(value) for value, _ in field.flatchoices}
        return str, lambda value: str(value) if value is not None and str(value) in labels else ""
    return str, lambda value: "" if value is None else str(value)


def load_kind(kind: DeviceKind, lo: int, hi: int) -> KindRows:
    """The shard's devices of one kind with their state and attributes: one query."""
    devices = list(
        kind.model.objects.filter(owner_id__gte=lo, owner_id__lt=hi, state__isnull=False)
        .select_related("state")
        .order_by("id")
    )
    states = [device.state for device in devices]
    n = len(devices)

    def column(values, dtype=float):
        return np.array(list(values), dtype=dtype) if n else np.zeros(0, dtype=dtype)

    config = {}
    for name in kind.fields:
        try:
            field = kind.model._meta.get_field(name)
        except Exception:
            continue  # a property such as level_wh: the state carries it
        dtype, decode = decoder(field)
        config[name] = column((decode(getattr(device, field.attname)) for device in devices), dtype)
    storage = kind.device_type == DeviceType.STORAGE
    state = State(
        available=column((s.available for s in states), bool),
        power_w=column(s.power_w for s in states),
        flow_w=column(s.flow_w for s in states),
        level_wh=column(number(s.level_wh) for s in states) if storage else np.full(n, np.nan),
        since=column(epoch(s.since) for s in states),
        aux=column(number(s.aux) for s in states),
    )
    return KindRows(
        kind=kind,
        ids=column((device.id for device in devices), np.int64),
        owner=column((device.owner_id for device in devices), np.int64),
        online=column((device.status == "online" for device in devices), bool),
        state=state,
        capacity_wh=column(number(s.capacity_wh) for s in states),
        simulated_at=column(epoch(s.simulated_at) for s in states),
        config=config,
        hour={
            "start": column(epoch(s.hour_start) for s in states),
            **{name: column(getattr(s, f"hour_{name}") for s in states) for name in HOUR_ENERGY},
            "closed_start": column(epoch(s.closed_hour_start) for s in states),
            **{name: column(number(getattr(s, name)) for s in states) for name in CLOSED_HOUR[1:]},
        },
        updated_us=column((int(device.updated_at.timestamp() * 1_000_000) for device in devices), np.int64),
        live_source=column((device.source == "live" for device in devices), bool),
        reports={
            "reported_at": column(epoch(s.reported_at) for s in states),
            **{name: column(getattr(s, name) for s in states) for name, _, _ in REPORT_COLUMNS[1:]},
        },
    )


def load_shard(registry: Registry, lo: int, hi: int) -> tuple[Homes, list[KindRows]]:
    """The shard's homes and devices, read whole every time."""
    kinds = [load_kind(kind, lo, hi) for kind in registry.kinds.values() if kind.simulate is not None]
    owners = np.concatenate([rows.owner for rows in kinds]) if kinds else np.zeros(0, dtype=np.int64)
    return load_homes(lo, hi, owners), kinds
