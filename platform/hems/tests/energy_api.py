"""Shared by the tests of the tick's Celery path and of its faults: a home of every
kind, Celery in eager mode, and the energyStats query with its query count."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hems.celery import app
from hems.tests.factories import kind_keys, make_device

STATS = """
{ energyStats { currentProduction currentConsumption currentStorage { totalCapacityWh currentLevelWh percentage }
                currentStorageFlow netGridFlow timestamp } }
"""


@pytest.fixture
def eager():
    """Celery tasks run in the caller, as in the embedded mode."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def home(user):
    """One device of every installed kind, owned by ``user``."""
    return [make_device(user, key) for key in kind_keys()]


def stats(api, user) -> tuple[dict, int]:
    """``user``'s energyStats and the number of SQL queries it took."""
    with CaptureQueriesContext(connection) as queries:
        data = api.data(STATS, user=user)["energyStats"]
    return data, len(queries)
