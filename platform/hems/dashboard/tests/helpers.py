"""Homes with a recorded history, for the dashboard's tests and the browser tests."""

from __future__ import annotations

from datetime import datetime, timedelta

from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device


def furnish(user) -> list:
    """One device of every installed kind, from each kind's example."""
    return [make_device(user, key) for key in kind_keys()]


def simulate(start: datetime, end: datetime, step: timedelta = timedelta(minutes=15)) -> datetime:
    """Run the real tick from ``start`` to ``end`` (inclusive) every ``step``; the tick
    integrates each span, so a coarse step still records all of the time. Returns the
    last instant."""
    instant = start
    while instant <= end:
        run_tick(instant)
        last, instant = instant, instant + step
    return last
