"""When each device was last simulated, now that the tick rewrites only changed rows.

Most devices are idle through most minutes (at the benchmark's noon, 86 % of the state
rows came out of a tick exactly as they went in): the tick rewrites only the rows whose
state changed, and records once per shard that it ran (``TickedOwners``: a range of
owners and the instant). A state row's ``simulated_at`` is then when a tick last
changed it, and the instant the device was last simulated is the later of that and
the latest tick over its owner's range. A row never simulated (``simulated_at`` NULL:
a device added since) stays never simulated, whatever ticks ran before it existed.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from django.db.models import Max, OuterRef, Subquery
from django.db.models.functions import Greatest

from hems.simulation.models import TickedOwners


def record(lo: int, hi: int, instant: datetime) -> None:
    """The tick at ``instant`` applied to owners [lo, hi): inside the shard's
    transaction, which holds the shard's lock (a late tick never moves it back)."""
    moved = TickedOwners.objects.filter(owner_lo=lo, owner_hi=hi).update(instant=Greatest("instant", instant))
    if not moved:
        TickedOwners.objects.create(owner_lo=lo, owner_hi=hi, instant=instant)


def ranges(lo: int, hi: int) -> list[tuple[int, int, float]]:
    """(first owner, owner past the last, instant in seconds since 1970) of each range
    that overlaps owners [lo, hi): one for a shard of the fan-out's current size."""
    rows = TickedOwners.objects.filter(owner_lo__lt=hi, owner_hi__gt=lo).values_list("owner_lo", "owner_hi", "instant")
    return [(first, past, instant.timestamp()) for first, past, instant in rows]


def simulated_at(stored: np.ndarray, owners: np.ndarray, found: list[tuple[int, int, float]]) -> np.ndarray:
    """The instants devices were last simulated (seconds since 1970, NaN for never):
    the later of their rows' ``simulated_at`` (``stored``) and the latest tick of
    :func:`ranges` (``found``) over each device's owner."""
    latest = np.full(len(owners), -np.inf)
    for first, past, instant in found:
        inside = (owners >= first) & (owners < past)
        latest[inside] = np.maximum(latest[inside], instant)
    return np.maximum(stored, latest)  # NaN (never simulated) stays NaN


def last_tick(owner_id: int) -> datetime | None:
    """The latest tick applied to the owner's devices (None if none ran)."""
    return TickedOwners.objects.filter(owner_lo__lte=owner_id, owner_hi__gt=owner_id).aggregate(latest=Max("instant"))[
        "latest"
    ]


def last_tick_expression(owner: str):
    """:func:`last_tick` of the owner in the field ``owner`` of the query it annotates: a
    subquery of a small table, not one query per row."""
    latest = TickedOwners.objects.filter(owner_lo__lte=OuterRef(owner), owner_hi__gt=OuterRef(owner))
    return Subquery(latest.order_by("-instant").values("instant")[:1])


def last_simulated(stored: datetime | None, latest_tick: datetime | None) -> datetime | None:
    """When a device was last simulated, from its row's ``simulated_at`` and
    :func:`last_tick` of its owner: None if it never was."""
    if stored is None or latest_tick is None:
        return stored
    return max(stored, latest_tick)


def last_simulated_of(state) -> datetime | None:
    """:func:`last_simulated` of one ``DeviceState`` (one query when it was simulated)."""
    if state is None or state.simulated_at is None:
        return None
    return last_simulated(state.simulated_at, last_tick(state.owner_id))
