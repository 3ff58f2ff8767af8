"""Apply live devices' reports to their state rows, a batch at a time.

``apply_reports`` is the write path of the ingest process (and of tests): arrays in,
one transaction out. It validates each report against its device (known, live, driver
installed), the kind's physical bounds (power >= 0; storage: a flow, a level within the
capacity), time (newer than the device's last report, no replays; not in the future),
then integrates the energy between reports: the previous report's power held until the
next one, never past the staleness limit and never before the last tick (which counted
up to its instant). The result goes into the state rows' ``pending_*``, which the next
tick moves into the history. On PostgreSQL: one read of the rows under lock (binary
COPY), one binary COPY of the results and one ``UPDATE ... FROM``; the shards' advisory
locks keep it from interleaving with their tick (``hems.simulation.shardlock``).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from hems.live import commands, ratings
from hems.plugins import registry
from hems.sdk.types import DeviceType, Source
from hems.simulation import shardlock
from hems.simulation.loader import quote
from hems.simulation.pgcopy import copy_in, copy_out, epoch_seconds, timestamps

logger = logging.getLogger("hems.live")

# Why a report was refused (the ingest counts and logs them).
MALFORMED = "malformed"
FUTURE = "in the future"
UNKNOWN = "unknown device"
NOT_LIVE = "not a live device"
NO_DRIVER = "driver not installed"
OUT_OF_BOUNDS = "out of bounds"
ABOVE_RATING = "above the device's rating"
REPLAY = "not newer than the last report"
REASONS = (MALFORMED, FUTURE, UNKNOWN, NOT_LIVE, NO_DRIVER, OUT_OF_BOUNDS, ABOVE_RATING, REPLAY)


@dataclass
class Outcome:
    """What became of a batch: ``refused[i]`` is report i's reason ("" when accepted)."""

    accepted: int
    refused: np.ndarray
    owners: set[int] = field(default_factory=set)

    @property
    def counts(self) -> Counter:
        return Counter(reason for reason in self.refused.tolist() if reason)


@dataclass
class Rows:
    """The reported devices' current rows, sorted by id (NaN for NULL)."""

    ids: np.ndarray
    owner: np.ndarray
    live: np.ndarray
    installed: np.ndarray  # its kind's driver is installed
    storage: np.ndarray
    reported_at: np.ndarray
    simulated_at: np.ndarray
    power_w: np.ndarray
    flow_w: np.ndarray
    level_wh: np.ndarray
    capacity_wh: np.ndarray
    kind: np.ndarray | None = None  # the kind's key ("" when not installed)
    updated_at: np.ndarray | None = None  # the device's configuration version (seconds)
    limit_w: np.ndarray | None = None  # its own power limit (hems.live.ratings); None: no limit

    def with_limits(self) -> Rows:
        """The rows with each device's power limit, from its kind and configuration."""
        if self.kind is not None and len(self.ids):
            self.limit_w = ratings.RATINGS.limits(self.ids, self.kind.tolist(), self.updated_at, registry().kinds)
        return self


def apply_reports(
    device_id,
    time,
    power_w,
    flow_w=None,
    level_wh=None,
    fields: Sequence[Mapping[str, Any] | None] | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Validate and store a batch of reports, one per element of the arrays.

    :param device_id: int, the reporting device (the ingest maps credentials to it).
    :param time: the report's instant, seconds since 1970 (float).
    :param power_w: power now, W (>= 0).
    :param flow_w: storage kinds: + charging, - discharging (W); NaN when absent.
    :param level_wh: storage kinds: stored energy (Wh); NaN keeps the last level.
    :param fields: per report, the controllable fields as the device reports them
        (``Report.fields``), or None: they confirm the commands sent to it.
    :returns: an :class:`Outcome`. After the commit, the owners' cached stats are marked
        stale and ``hems.push.publish_changes`` is told.
    """
    ids = np.asarray(device_id, dtype=np.int64)
    n = len(ids)
    time = np.asarray(time, dtype=float)
    power_w = np.asarray(power_w, dtype=float)
    flow_w = np.full(n, np.nan) if flow_w is None else np.asarray(flow_w, dtype=float)
    level_wh = np.full(n, np.nan) if level_wh is None else np.asarray(level_wh, dtype=float)
    now_s = (now or timezone.now()).timestamp()
    reason = np.full(n, "", dtype=object)
    reason[~np.isfinite(time) | ~np.isfinite(power_w) | np.isinf(flow_w) | np.isinf(level_wh)] = MALFORMED
    reason[(reason == "") & (time > now_s + settings.HEMS_LIVE_CLOCK_SKEW_SECONDS)] = FUTURE
    if not n or not (reason == "").any():
        return Outcome(0, reason)
    with transaction.atomic():
        candidates = np.unique(ids[reason == ""])
        if connection.vendor == "postgresql":
            shardlock.lock_for_devices(candidates)
            rows = read_rows_postgres(candidates).with_limits()
        else:
            rows = read_rows_portable(candidates).with_limits()
        update = integrate(rows, ids, time, power_w, flow_w, level_wh, reason, settings.HEMS_LIVE_STALE_SECONDS)
        if update is not None:
            (write_postgres if connection.vendor == "postgresql" else write_portable)(update)
        owners = set() if update is None else {int(o) for o in update["owner"]}
        if fields is not None:
            reported: dict[int, dict] = {}
            for i in np.flatnonzero(reason == "")[np.argsort(time[reason == ""], kind="stable")]:
                if fields[i]:
                    reported.setdefault(int(ids[i]), {}).update(fields[i])
            commands.confirm(reported)
        transaction.on_commit(lambda: after_commit(owners))
    accepted = int((reason == "").sum())
    return Outcome(accepted, reason, owners)


def integrate(rows: Rows, ids, time, power_w, flow_w, level_wh, reason, stale_s) -> dict | None:
    """Refuse what the rows refuse (in ``reason``), and per device the new state and the
    energy between its reports. Pure: arrays in, arrays out."""
    if not len(rows.ids):
        reason[reason == ""] = UNKNOWN
        return None
    at = np.searchsorted(rows.ids, ids).clip(0, len(rows.ids) - 1)
    reason[(reason == "") & (rows.ids[at] != ids)] = UNKNOWN
    checks = [
        (~rows.live[at], NOT_LIVE),
        (~rows.installed[at], NO_DRIVER),
        (
            (power_w < 0)
            | (rows.storage[at] & np.isnan(flow_w))
            | (rows.storage[at] & ~np.isnan(level_wh) & ~((level_wh >= 0) & (level_wh <= rows.capacity_wh[at]))),
            OUT_OF_BOUNDS,
        ),
        # The device's own rating, as the tick holds a simulated one to it; refused, not
        # clipped: a reading beyond it is a fault, and the previous report still holds.
        (above_rating(rows, at, power_w, flow_w), ABOVE_RATING),
        (time <= rows.reported_at[at], REPLAY),  # False for NaN: a first report is newer than none
    ]
    for refused, why in checks:
        reason[(reason == "") & refused] = why
    ok = np.flatnonzero(reason == "")
    # Within the batch, by device then time; a second report at the same instant is a replay.
    ok = ok[np.lexsort((time[ok], ids[ok]))]
    dup = np.zeros(len(ok), dtype=bool)
    dup[1:] = (ids[ok][1:] == ids[ok][:-1]) & (time[ok][1:] == time[ok][:-1])
    reason[ok[dup]] = REPLAY
    ok = ok[~dup]
    if not len(ok):
        return None

    row = at[ok]
    t, p = time[ok], power_w[ok]
    storage = rows.storage[row]
    f = np.where(storage, flow_w[ok], 0.0)
    first = np.ones(len(ok), dtype=bool)
    first[1:] = ids[ok][1:] != ids[ok][:-1]
    # The previous report of each: the one before it in the batch, or the stored one.
    prev_t = np.where(first, rows.reported_at[row], np.roll(t, 1))
    prev_p = np.where(first, rows.power_w[row], np.roll(p, 1))
    prev_f = np.where(first, np.where(storage, rows.flow_w[row], 0.0), np.roll(f, 1))
    start = np.fmax(prev_t, rows.simulated_at[row])  # the last tick counted up to its instant
    # NaN (no previous report) propagates through minimum() and counts nothing.
    hours = np.nan_to_num(np.clip((np.minimum(t, prev_t + stale_s) - start) / 3600.0, 0.0, None))

    group = np.cumsum(first) - 1
    n_dev = int(group[-1]) + 1
    last = np.flatnonzero(np.append(first[1:], True))
    levels = np.flatnonzero(~np.isnan(level_wh[ok]))
    last_level = np.full(n_dev, -1)
    np.maximum.at(last_level, group[levels], levels)
    dev_row = row[last]

    def per_device(values):
        return np.bincount(group, weights=values, minlength=n_dev)

    return {
        "device_id": rows.ids[dev_row],
        "owner": rows.owner[dev_row],
        "reported_at": t[last],
        "power_w": p[last],
        "flow_w": f[last],
        "level_wh": np.where(last_level >= 0, level_wh[ok][last_level.clip(0)], rows.level_wh[dev_row]),
        "energy_wh": per_device(prev_p * hours),
        "charge_wh": per_device(np.maximum(prev_f, 0.0) * hours),
        "discharge_wh": per_device(np.maximum(-prev_f, 0.0) * hours),
    }


def above_rating(rows: Rows, at: np.ndarray, power_w: np.ndarray, flow_w: np.ndarray) -> np.ndarray:
    """Power, or a storage flow, beyond what the device's own limit allows."""
    if rows.limit_w is None:
        return np.zeros(len(at), dtype=bool)
    limit = rows.limit_w[at]
    return (power_w > limit) | (rows.storage[at] & (np.abs(flow_w) > limit))


READ_COLUMNS = [
    ("ids", "s.device_id::int8", "int8"),
    ("owner", "s.owner_id::int8", "int8"),
    ("live", f"d.source = '{Source.LIVE.value}'", "bool"),
    ("installed", "d.kind = ANY({kinds})", "bool"),
    ("storage", f"d.device_type = '{DeviceType.STORAGE.value}'", "bool"),
    ("reported_at", "COALESCE(s.reported_at, '-infinity')", "timestamptz"),
    ("simulated_at", "COALESCE(s.simulated_at, '-infinity')", "timestamptz"),
    ("power_w", "s.power_w", "float8"),
    ("flow_w", "s.flow_w", "float8"),
    ("level_wh", "COALESCE(s.level_wh, 'NaN')", "float8"),
    ("capacity_wh", "COALESCE(s.capacity_wh, 'NaN')", "float8"),
    ("kind", "COALESCE(array_position({kinds}, d.kind), 0)", "int4"),
    ("updated_at", "d.updated_at", "timestamptz"),
]


def read_rows_postgres(candidates: np.ndarray) -> Rows:
    """The rows, locked until the commit (another ingest process waits for them)."""
    kinds = "ARRAY[" + ", ".join(quote(key) for key in sorted(registry().kinds)) + "]::text[]"
    expressions = ", ".join(sql.replace("{kinds}", kinds) for _, sql, _ in READ_COLUMNS)
    listed = ",".join(str(int(i)) for i in candidates)
    query = (
        f"SELECT {expressions} FROM hems_device_state s JOIN hems_device d ON d.id = s.device_id "
        f"WHERE s.device_id IN ({listed}) ORDER BY s.device_id FOR UPDATE OF s"
    )
    with connection.cursor() as cursor:
        raw = copy_out(cursor, query, [(name, pg_type) for name, _, pg_type in READ_COLUMNS])
    values = {}
    for name, _, pg_type in READ_COLUMNS:
        column = raw[name]
        if name == "kind":  # a position in the sorted keys, 0 for none
            values[name] = np.array(["", *sorted(registry().kinds)], dtype=object)[np.asarray(column, dtype=np.int64)]
        elif pg_type == "timestamptz":
            values[name] = epoch_seconds(column)
        else:
            values[name] = np.ascontiguousarray(column, dtype={"int8": np.int64, "bool": bool}.get(pg_type, float))
    return Rows(**values)


def read_rows_portable(candidates: np.ndarray) -> Rows:
    from hems.devices.models import DeviceState

    found = list(
        DeviceState.objects.filter(pk__in=candidates.tolist())
        .order_by("pk")
        .values_list(
            "pk", "owner_id", "device__source", "device__device_type", "device__kind", "reported_at",
            "simulated_at", "power_w", "flow_w", "level_wh", "capacity_wh", "device__updated_at",
        )
    )  # fmt: skip

    def column(i, convert=float, dtype=float):
        return np.array([convert(r[i]) for r in found], dtype=dtype)

    def epoch(value):
        return np.nan if value is None else value.timestamp()

    def number(value):
        return np.nan if value is None else float(value)

    return Rows(
        ids=column(0, int, np.int64),
        owner=column(1, int, np.int64),
        live=column(2, lambda v: v == Source.LIVE, bool),
        storage=column(3, lambda v: v == DeviceType.STORAGE, bool),
        installed=column(4, lambda v: v in registry().kinds, bool),
        reported_at=column(5, epoch),
        simulated_at=column(6, epoch),
        power_w=column(7),
        flow_w=column(8),
        level_wh=column(9, number),
        capacity_wh=column(10, number),
        kind=column(4, lambda v: v if v in registry().kinds else "", object),
        updated_at=column(11, epoch),
    )


STAGING = "hems_live_reports"
CREATE_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGING} (
    device_id bigint, reported_at timestamptz, power_w float8, flow_w float8, level_wh float8,
    energy_wh float8, charge_wh float8, discharge_wh float8
) ON COMMIT DELETE ROWS
"""
# The rows are locked since they were read: adding to pending_* is exact. A level
# arrives within the capacity read under that lock; NaN keeps the stored one.
APPLY = f"""
UPDATE hems_device_state s SET
    available = true,
    reported_at = t.reported_at,
    power_w = t.power_w,
    flow_w = t.flow_w,
    level_wh = CASE WHEN s.capacity_wh IS NULL THEN NULL
                    ELSE LEAST(GREATEST(COALESCE(NULLIF(t.level_wh, 'NaN'), s.level_wh), 0), s.capacity_wh) END,
    pending_energy_wh = s.pending_energy_wh + t.energy_wh,
    pending_charge_wh = s.pending_charge_wh + t.charge_wh,
    pending_discharge_wh = s.pending_discharge_wh + t.discharge_wh
FROM {STAGING} t
WHERE s.device_id = t.device_id
"""


def write_postgres(update: dict) -> None:
    with connection.cursor() as cursor:
        cursor.execute(CREATE_STAGING)
        copy_in(
            cursor,
            STAGING,
            [
                ("device_id", "int8", update["device_id"]),
                ("reported_at", "timestamptz", timestamps(update["reported_at"])),
                *[
                    (name, "float8", update[name])
                    for name in ("power_w", "flow_w", "level_wh", "energy_wh", "charge_wh", "discharge_wh")
                ],
            ],
        )
        cursor.execute(APPLY)
        cursor.execute(f"TRUNCATE {STAGING}")


def write_portable(update: dict) -> None:
    """The same update through the ORM (the embedded SQLite mode)."""
    from datetime import UTC

    from hems.devices.models import DeviceState

    states = DeviceState.objects.in_bulk(update["device_id"].tolist())
    for i, pk in enumerate(update["device_id"].tolist()):
        state = states[pk]
        state.available = True
        state.reported_at = datetime.fromtimestamp(float(update["reported_at"][i]), UTC)
        state.power_w = float(update["power_w"][i])
        state.flow_w = float(update["flow_w"][i])
        if state.capacity_wh is not None and not np.isnan(update["level_wh"][i]):
            state.level_wh = float(min(max(update["level_wh"][i], 0.0), state.capacity_wh))
        state.pending_energy_wh += float(update["energy_wh"][i])
        state.pending_charge_wh += float(update["charge_wh"][i])
        state.pending_discharge_wh += float(update["discharge_wh"][i])
    fields = ["available", "reported_at", "power_w", "flow_w", "level_wh"]
    fields += ["pending_energy_wh", "pending_charge_wh", "pending_discharge_wh"]
    DeviceState.objects.bulk_update(list(states.values()), fields, batch_size=500)


def after_commit(owners: set[int]) -> None:
    """The owners' cached stats are stale now; their subscribers hear of it."""
    if not owners:
        return
    from hems.energy import cache

    cache.changed_many(owners)
    try:
        from hems.push import publish_changes
    except ImportError:  # the push module is optional here
        return
    publish_changes(owners)
