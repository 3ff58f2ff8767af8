"""The day's energy flows: each history row shared out by the stated rule, balancing
to the Wh against the history's own totals."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from hems.dashboard.flows import SINKS, SOURCES, allocate, home_flows
from hems.dashboard.tests.helpers import furnish, simulate
from hems.simulation import history

BERLIN = ZoneInfo("Europe/Berlin")


def rows(**columns):
    names = (*SOURCES, *SINKS)
    length = len(next(iter(columns.values())))
    return {name: np.array(columns.get(name, [0.0] * length), dtype=float) for name in names}


def test_production_serves_consumption_then_charge_then_export():
    flows = allocate(rows(production=[10.0], consumption=[4.0], storage_charge=[3.0], grid_export=[3.0],
                          storage_discharge=[0.0], grid_import=[0.0]))  # fmt: skip
    assert flows.links[("production", "consumption")] == 4.0
    assert flows.links[("production", "storage_charge")] == 3.0
    assert flows.links[("production", "grid_export")] == 3.0
    assert flows.out_of("grid_import") == 0.0


def test_storage_then_the_grid_cover_what_production_does_not():
    flows = allocate(rows(production=[2.0], storage_discharge=[3.0], grid_import=[5.0], consumption=[8.0],
                          storage_charge=[2.0], grid_export=[0.0]))  # fmt: skip
    assert flows.links[("production", "consumption")] == 2.0
    assert flows.links[("storage_discharge", "consumption")] == 3.0
    assert flows.links[("grid_import", "consumption")] == 3.0
    assert flows.links[("grid_import", "storage_charge")] == 2.0  # charged from the grid


def test_each_row_is_shared_on_its_own():
    """A sunny minute's export does not pay for an evening's import."""
    flows = allocate(rows(production=[5.0, 0.0], consumption=[1.0, 4.0], grid_export=[4.0, 0.0],
                          grid_import=[0.0, 4.0], storage_charge=[0.0, 0.0], storage_discharge=[0.0, 0.0]))  # fmt: skip
    assert flows.links[("production", "grid_export")] == 4.0
    assert flows.links[("grid_import", "consumption")] == 4.0
    assert flows.links[("production", "consumption")] == 1.0


@pytest.mark.django_db
def test_a_simulated_day_balances_to_the_wh_against_the_history(user):
    furnish(user)
    start = datetime(2026, 6, 21, tzinfo=BERLIN)
    simulate(start, start + timedelta(days=1), timedelta(minutes=20))
    end = start + timedelta(days=1)
    flows = home_flows(user.pk, start, end)
    # The day under way is read from its completed hours, stored as ``real`` (7 digits).
    day = history.buckets(user.pk, start, end, "day", BERLIN)[start]
    for name in SOURCES:
        assert flows.out_of(name) == pytest.approx(day[f"{name}_wh"], rel=1e-6, abs=1e-6), name
    for name in SINKS:
        assert flows.into(name) == pytest.approx(day[f"{name}_wh"], rel=1e-6, abs=1e-6), name
    assert flows.totals["production"] > 1000  # a June day: the check is not over zeros
    assert flows.links[("production", "consumption")] > 0
    assert sum(flows.links.values()) == pytest.approx(sum(flows.totals[name] for name in SOURCES), abs=1e-6)
