"""Where a home's energy went: production, storage and the grid to the home, to storage
and to the grid, allocated from its per-tick history.

Per-tick rows are kept ``HEMS_HISTORY_TICK_DAYS``; before them the allocation runs on
the home's completed hours instead, one row per hour. Totals are the same; the links
of an hour that both imported and exported (say) are then matched within the hour
rather than within each minute, so self-consumption reads a little higher there.

The rule, applied to each history row (one tick) on its own, so that energy is only
matched with energy of the same minutes:

1. production serves consumption first, then storage charge, then export;
2. storage discharge serves the consumption left, then the charge left (one storage
   device feeding another), then export;
3. the grid's import covers what is still unmet (consumption, then charge), and
   whatever import is left meets the export left (a row that both imports and exports).

Each row balances (production + discharge + import = consumption + charge + export,
by construction of the history), so every source is shared out in full and every sink
filled: the flows out of each source and into each sink add up to the history's totals.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

# (source, sink) pairs in the order energy is allocated: see the module's docstring.
SOURCES = ("production", "storage_discharge", "grid_import")
SINKS = ("consumption", "storage_charge", "grid_export")
ORDER = (
    ("production", "consumption"),
    ("production", "storage_charge"),
    ("production", "grid_export"),
    ("storage_discharge", "consumption"),
    ("storage_discharge", "storage_charge"),
    ("storage_discharge", "grid_export"),
    ("grid_import", "consumption"),
    ("grid_import", "storage_charge"),
    ("grid_import", "grid_export"),
)


@dataclass(frozen=True)
class Flows:
    """Energy (Wh) per (source, sink) pair, and the history's totals it was shared from."""

    links: dict[tuple[str, str], float]
    totals: dict[str, float]

    def out_of(self, source: str) -> float:
        return sum(wh for (src, _), wh in self.links.items() if src == source)

    def into(self, sink: str) -> float:
        return sum(wh for (_, dst), wh in self.links.items() if dst == sink)

    def as_dict(self) -> dict:
        return {
            "links": [{"source": s, "target": t, "wh": wh} for (s, t), wh in self.links.items()],
            "totals": self.totals,
        }


def allocate(rows: dict[str, np.ndarray]) -> Flows:
    """Share out each row's sources over its sinks (Wh arrays, one element per row).

    ``rows`` holds one array for each name of ``SOURCES`` and ``SINKS`` (the history's
    ``production``, ``storage_discharge``, ``grid_import``, ``consumption``,
    ``storage_charge``, ``grid_export``).
    """
    left = {name: np.asarray(rows[name], dtype=float).copy() for name in (*SOURCES, *SINKS)}
    links = {}
    for source, sink in ORDER:
        amount = np.minimum(left[source], left[sink])
        left[source] -= amount
        left[sink] -= amount
        links[(source, sink)] = float(amount.sum())
    totals = {name: float(np.asarray(rows[name], dtype=float).sum()) for name in (*SOURCES, *SINKS)}
    return Flows(links=links, totals=totals)


def home_flows(owner_id: int, start: datetime, end: datetime) -> Flows:
    """The flows of a home's ticks whose span starts in ``[start, end)`` (the same rows
    as the history's buckets over that range): per-tick rows where they are still kept,
    the completed hours before the first of them."""
    from hems.simulation import history
    from hems.simulation.models import HomeEnergy

    columns = [f"{name}_wh" for name in (*SOURCES, *SINKS)]
    fine = HomeEnergy.objects.filter(owner_id=owner_id, period_start__gte=start, period_start__lt=end)
    first = fine.order_by("period_start").values_list("period_start", flat=True).first()
    first = end if first is None else first
    # The hours before the first per-tick row; the hour holding it too (its earlier
    # ticks went with their partition), whose ticks are then skipped.
    names = list(history.ENERGY)
    hours = history.hour_rows(owner_id, start, first + timedelta(hours=1))
    running = history.running_hour(owner_id)  # the hour under way, when its ticks are gone too
    if running and start <= running[0] < end:
        hours.append((running[0], *running[1].values()))
    hours = [row for row in hours if row[0] < first]
    if hours and hours[-1][0] + timedelta(hours=1) > first:
        fine = fine.filter(period_start__gte=hours[-1][0] + timedelta(hours=1))
    table = np.array(
        [[row[1 + names.index(column)] for column in columns] for row in hours] + list(fine.values_list(*columns)),
        dtype=float,
    ).reshape(-1, len(columns))
    return allocate({name: table[:, i] for i, name in enumerate((*SOURCES, *SINKS))})
