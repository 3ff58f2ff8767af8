"""The tick is batch-shaped: the statements it sends do not grow with the devices it
simulates (no per-device query or save), whether it reads a shard whole (a fresh
process), reads back only what others wrote (a regular tick) or files the hour.

Two shards side by side at the same instants, one with five times the other's devices.
Every statement counts, those sent on the psycopg connection itself too (the COPYs and
the packed binary reads, which ``pgcopy.logged`` records in Django's query log).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hems.simulation import loader
from hems.simulation.tick import run_shard
from hems.tests.factories import kind_keys, make_device

pytestmark = pytest.mark.django_db

WARM_UP = datetime(2026, 6, 22, 9, 59, tzinfo=UTC)  # files the hour 09:00: every partition made
START = datetime(2026, 6, 22, 10, 58, tzinfo=UTC)  # cold, regular, then 11:01 files the hour 10:00


def statements(instant: datetime, shard: int) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        report = run_shard(instant, shard)
    assert report.applied
    return [query["sql"] for query in queries.captured_queries]


def test_the_ticks_statements_do_not_grow_with_its_devices(user, other_user, settings):
    settings.HEMS_TICK_HOMES_PER_SHARD = 1  # each home its own shard
    settings.HEMS_DEVICE_HOUR_FILING_MINUTES = 1  # every device's hour filed by one tick: the most work
    for key in kind_keys():
        make_device(user, key)
        for _ in range(5):
            make_device(other_user, key)
    shards = {"few": user.pk, "many": other_user.pk}
    for minute in range(3):
        for shard in shards.values():
            run_shard(WARM_UP + timedelta(minutes=minute), shard)
    loader.forget()  # a fresh process

    seen: dict[str, dict[str, list[str]]] = {name: {} for name in shards}
    for tick, minute in (("cold", 0), ("regular", 1), (None, 2), ("filing the hour", 3)):
        for name, shard in shards.items():
            sent = statements(START + timedelta(minutes=minute), shard)
            if tick:
                seen[name][tick] = sent

    few, many = seen["few"], seen["many"]
    assert any(sql.startswith("COPY") for sql in few["regular"])  # the COPYs are counted
    assert any("string_agg" in sql for sql in few["cold"])  # and the packed reads
    assert any("INSERT INTO hems_device_energy " in sql for sql in few["filing the hour"])  # an hour filed
    for tick in few:
        assert len(many[tick]) == len(few[tick]), (tick, many[tick], few[tick])
