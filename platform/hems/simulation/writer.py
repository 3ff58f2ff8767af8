"""Write a shard's states in bulk (binary COPY, one UPDATE); history is in ``recording``."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from django.db import connection

from hems.simulation.engine import CLEAR, CLOSE, KEEP, ShardResult
from hems.simulation.pgcopy import copy_in, timestamps

# A temporary table outlives the process in a pooled server session: a new layout
# takes a new name, so it never meets an older one's table.
STAGING = "hems_tick_state_rows"

CREATE_STAGING = f"""
CREATE TEMP TABLE IF NOT EXISTS {STAGING} (
    device_id bigint, available boolean, power_w float8, flow_w float8,
    level_wh float8, since timestamptz, aux float8,
    hour_start timestamptz, hour_energy_wh float8, hour_charge_wh float8, hour_discharge_wh float8,
    closed int4
) ON COMMIT DELETE ROWS
"""

# Only rows not already at or past this instant: a late or repeated tick changes
# nothing. A live device's energy reported since the last tick is now in the history
# (pending_* back to 0). The level is clipped against the capacity in the row itself,
# which a user may have just lowered. Timestamps arrive as timestamptz (-infinity for
# none). The owner range keeps the join to the shard's rows: without it the planner
# hashes the whole state table for every shard. ``closed`` (engine.KEEP, CLOSE, CLEAR)
# moves the hour that just ended, as the row held it, into ``closed_*``, or clears
# what this tick filed: SET reads the row as it was before the update.
CLOSED = {
    "closed_hour_start": "hour_start", "closed_energy_wh": "hour_energy_wh", "closed_charge_wh": "hour_charge_wh",
    "closed_discharge_wh": "hour_discharge_wh", "closed_level_wh": "level_wh",
}  # fmt: skip
SET_CLOSED = ", ".join(
    f"{column} = CASE t.closed WHEN {CLOSE} THEN s.{source} WHEN {CLEAR} THEN NULL ELSE s.{column} END"
    for column, source in CLOSED.items()
)
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
    {SET_CLOSED},
    pending_energy_wh = 0, pending_charge_wh = 0, pending_discharge_wh = 0,
    simulated_at = %s
FROM {STAGING} t
WHERE s.device_id = t.device_id AND (s.simulated_at IS NULL OR s.simulated_at < %s)
  AND s.owner_id >= %s AND s.owner_id <= %s
"""


def write_states(result: ShardResult, writes: list[np.ndarray]) -> int:
    """Rewrite the state rows ``writes`` picks (per kind of ``result``, a mask of its
    devices: ``stored.must_write``); returns how many were rewritten."""
    parts = [(k.rows.ids[w], k.state.take(w), k, w) for k, w in zip(result.kinds, writes, strict=True) if w.any()]
    if not parts:
        return 0
    ids = np.concatenate([ids for ids, _, _, _ in parts])

    def column(name):
        if name.startswith("hour_"):
            key = name.removeprefix("hour_")
            return np.concatenate([k.hour[key][w] for _, _, k, w in parts])
        return np.concatenate([getattr(state, name) for _, state, _, _ in parts])

    filing = np.concatenate([k.filing[w] for _, _, k, w in parts]).astype(np.int32)
    if connection.vendor != "postgresql":
        return _write_states_portable(result.instant, ids, column, filing)
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
                ("closed", "int4", filing),
            ],
        )
        owners = [int(result.owners.min()), int(result.owners.max())]
        cursor.execute(APPLY, [result.instant, result.instant, *owners])
        updated = cursor.rowcount
        cursor.execute(f"TRUNCATE {STAGING}")
    return updated


def _write_states_portable(instant, ids, column, filing) -> int:
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
        if filing[i] != KEEP:  # before the hour and the level are overwritten
            for name, source in CLOSED.items():
                setattr(state, name, getattr(state, source) if filing[i] == CLOSE else None)
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
    fields = ["available", "power_w", "flow_w", "level_wh", "since", "aux", "simulated_at", *names[6:], *pending,
              *CLOSED]  # fmt: skip
    DeviceState.objects.bulk_update(list(states.values()), fields, batch_size=500)
    return len(states)
