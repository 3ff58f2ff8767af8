"""Write a shard's results: states in bulk (binary COPY, one UPDATE), history rows."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from django.db import connection

from hems.simulation import history
from hems.simulation.engine import ShardResult
from hems.simulation.pgcopy import copy_in, timestamps

STAGING = "hems_tick_states"

CREATE_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGING} (
    device_id bigint, available boolean, power_w float8, flow_w float8,
    level_wh float8, since timestamptz, aux float8,
    hour_start timestamptz, hour_energy_wh float8, hour_charge_wh float8, hour_discharge_wh float8
) ON COMMIT DELETE ROWS
"""

# Only rows not already at or past this instant: a late or repeated tick changes
# nothing. A live device's energy reported since the last tick is now in the history
# (pending_* back to 0). The level is clipped against the capacity in the row itself,
# which a user may have just lowered. Timestamps arrive as timestamptz (-infinity for
# none). The owner range keeps the join to the shard's rows: without it the planner
# hashes the whole state table for every shard.
APPLY = f"""
UPDATE hems_device_state s SET
    available = t.available,
    power_w = t.power_w,
    flow_w = t.flow_w,
    level_wh = CASE WHEN s.capacity_wh IS NULL THEN NULL ELSE LEAST(GREATEST(t.level_wh, 0), s.capacity_wh) END,
    since = NULLIF(t.since, '-infinity'),
    aux = NULLIF(t.aux, 'NaN'),
    hour_start = t.hour_start,
    hour_energy_wh = t.hour_energy_wh,
    hour_charge_wh = t.hour_charge_wh,
    hour_discharge_wh = t.hour_discharge_wh,
    pending_energy_wh = 0, pending_charge_wh = 0, pending_discharge_wh = 0,
    simulated_at = %s
FROM {STAGING} t
WHERE s.device_id = t.device_id AND (s.simulated_at IS NULL OR s.simulated_at < %s)
  AND s.owner_id >= %s AND s.owner_id <= %s
"""


def write_states(result: ShardResult) -> int:
    """Rewrite the state row of every device the tick simulated; returns the count."""
    parts = [(k.rows.ids[k.due], k.state.take(k.due), k) for k in result.kinds if k.due.any()]
    if not parts:
        return 0
    ids = np.concatenate([ids for ids, _, _ in parts])

    def column(name):
        if name.startswith("hour_"):
            key = name.removeprefix("hour_")
            return np.concatenate([k.hour[key][k.due] for _, _, k in parts])
        return np.concatenate([getattr(state, name) for _, state, _ in parts])

    if connection.vendor != "postgresql":
        return _write_states_portable(result.instant, ids, column)
    with connection.cursor() as cursor:
        cursor.execute(CREATE_STAGING)
        copy_in(
            cursor,
            STAGING,
            [
                ("device_id", "int8", ids),
                ("available", "bool", column("available")),
                ("power_w", "float8", column("power_w")),
                ("flow_w", "float8", column("flow_w")),
                ("level_wh", "float8", column("level_wh")),
                ("since", "timestamptz", timestamps(column("since"))),
                ("aux", "float8", column("aux")),
                ("hour_start", "timestamptz", timestamps(column("hour_start"))),
                ("hour_energy_wh", "float8", column("hour_energy_wh")),
                ("hour_charge_wh", "float8", column("hour_charge_wh")),
                ("hour_discharge_wh", "float8", column("hour_discharge_wh")),
            ],
        )
        owners = [int(result.owners.min()), int(result.owners.max())]
        cursor.execute(APPLY, [result.instant, result.instant, *owners])
        updated = cursor.rowcount
        cursor.execute(f"TRUNCATE {STAGING}")
    return updated


def _write_states_portable(instant, ids, column) -> int:
    """The same update for databases without COPY (the embedded SQLite mode)."""
    from django.db.models import Q

    from hems.devices.models import DeviceState

    names = ("available", "power_w", "flow_w", "level_wh", "since", "aux", "hour_start", "hour_energy_wh",
             "hour_charge_wh", "hour_discharge_wh")  # fmt: skip
    values = {name: column(name) for name in names}
    states = {s.pk: s for s in DeviceState.objects.filter(pk__in=ids.tolist()).filter(
        Q(simulated_at__isnull=True) | Q(simulated_at__lt=instant)
    )}  # fmt: skip
    for i, pk in enumerate(ids.tolist()):
        state = states.get(pk)
        if state is None:
            continue
        state.available = bool(values["available"][i])
        state.power_w = float(values["power_w"][i])
        state.flow_w = float(values["flow_w"][i])
        if state.capacity_wh is not None:
            state.level_wh = float(min(max(values["level_wh"][i], 0.0), state.capacity_wh))
        since = values["since"][i]
        state.since = None if np.isnan(since) else datetime.fromtimestamp(since, UTC)
        state.aux = None if np.isnan(values["aux"][i]) else float(values["aux"][i])
        state.hour_start = datetime.fromtimestamp(float(values["hour_start"][i]), UTC)
        for name in ("hour_energy_wh", "hour_charge_wh", "hour_discharge_wh"):
            setattr(state, name, float(values[name][i]))
        state.pending_energy_wh = state.pending_charge_wh = state.pending_discharge_wh = 0.0
        state.simulated_at = instant
    pending = ["pending_energy_wh", "pending_charge_wh", "pending_discharge_wh"]
    fields = ["available", "power_w", "flow_w", "level_wh", "since", "aux", "simulated_at", *names[6:], *pending]
    DeviceState.objects.bulk_update(list(states.values()), fields, batch_size=500)
    return len(states)


def write_history(result: ShardResult) -> int:
    """One row per home for the span this tick covered."""
    if not len(result.owners):
        return 0
    starts = result.period_start
    first = datetime.fromtimestamp(float(starts.min()), UTC).date()
    last = datetime.fromtimestamp(float(starts.max()), UTC).date()
    history.ensure_partitions(first, last)
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
        return len(result.owners)
    end = np.full(len(result.owners), result.instant.timestamp())
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS hems_tick_energy "
            "(owner_id bigint, period_start float8, period_end float8, "
            + ", ".join(f"{name} float8" for name in history.ENERGY)
            + ") ON COMMIT DELETE ROWS"
        )
        copy_in(
            cursor,
            "hems_tick_energy",
            [("owner_id", "int8", result.owners), ("period_start", "float8", starts), ("period_end", "float8", end)]
            + [(name, "float8", result.energy[name]) for name in history.ENERGY],
        )
        names = ", ".join(history.ENERGY)
        cursor.execute(
            f"INSERT INTO {history.TABLE} (owner_id, period_start, period_end, {names}) "
            f"SELECT owner_id, to_timestamp(period_start), to_timestamp(period_end), {names} FROM hems_tick_energy "
            "ON CONFLICT DO NOTHING"
        )
        written = cursor.rowcount
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
    first = datetime.fromtimestamp(float(finished["start"].min()), UTC).date()
    last = datetime.fromtimestamp(float(finished["start"].max()), UTC).date()
    history.ensure_partitions(first, last, table=history.DEVICE_TABLE)
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
        return len(rows)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS hems_tick_hours (device_id bigint, hour_start float8, "
            "energy_wh float8, charge_wh float8, discharge_wh float8, level_wh float8) ON COMMIT DELETE ROWS"
        )
        copy_in(
            cursor,
            "hems_tick_hours",
            [("device_id", "int8", finished["device_id"]), ("hour_start", "float8", finished["start"])]
            + [(name, "float8", finished[name]) for name in (*history.DEVICE_ENERGY, "level_wh")],
        )
        energies = ", ".join(history.DEVICE_ENERGY)
        cursor.execute(
            f"INSERT INTO {history.DEVICE_TABLE} ({names}) "
            f"SELECT device_id, to_timestamp(hour_start), {energies}, NULLIF(level_wh, 'NaN') FROM hems_tick_hours "
            + ADD_TO_HOUR
        )
        written = cursor.rowcount
        cursor.execute("TRUNCATE hems_tick_hours")
    return written
