#!/usr/bin/env python
"""Benchmark the rolled-up energy history; prints a markdown table for BENCHMARKS.md.

    .venv/bin/python bench/history.py                    # 1,000 homes, a year each
    .venv/bin/python bench/history.py --homes 200 --calls 100

Recreates its own database (``--database``, default ``hems_bench_history``, on the
server of DATABASE_URL), seeds --homes homes (Europe/Berlin) with a year of completed
hours and local days written as the roll-up writes them (hour by hour, every home's
hour in turn, as the ticks insert them) and each home's running hour, VACUUM ANALYZE,
then measures:
  - storage per home per year: the hour, day and running tables' heap and indexes
    (every partition's), divided by the homes: as written, then with the closed
    months' indexes packed as the daily maintenance packs them;
  - energyHistory for a year by MONTH, WEEK and DAY and a month by HOUR, for random
    homes: p50/p99 over --calls calls through Django's full request stack (in-process
    WSGI, Bearer token, as bench/tick.py measures the API), of ``history.buckets``
    alone (its SQL and the dict it builds), and through the API again executed as
    graphql-core executes (without hems.api.execution's quick path), to compare;
  - the roll-up's cost per tick for a shard of 2,500 homes: a regular tick (the
    running-hour upsert) and the tick at the hour (the completed hours into the hour
    and day tables too), each the median of five runs rolled back.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hems.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
os.environ.setdefault("HEMS_HTTPS", "false")

from bench.tick import bench_url, drop, graphql_poster, machine_reference_ms, percentile, recreate  # noqa: E402

ZONE = "Europe/Berlin"
FIRST = datetime(2025, 12, 1, tzinfo=UTC)
LAST = datetime(2026, 12, 1, tzinfo=UTC)  # a year: 8,760 hours
SHARD = 2500
QUERY = """query($s: DateTime!, $e: DateTime!, $i: Interval!) {
  energyHistory(start: $s, end: $e, interval: $i) { start productionWh consumptionWh gridImportWh }
}"""


def seed(homes: int) -> list:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import connection

    from hems.devices.models import Home
    from hems.simulation import history

    User = get_user_model()
    password = make_password("bench history passphrase")
    User.objects.bulk_create([User(username=f"hist{i}", password=password) for i in range(homes)], batch_size=5000)
    users = list(User.objects.filter(username__startswith="hist"))
    Home.objects.bulk_create([Home(owner=u, latitude=52.5, longitude=13.4, time_zone=ZONE) for u in users])
    ids = [u.pk for u in users]
    history.ensure_partitions(FIRST.date(), LAST.date(), history.HOUR_TABLE)
    history.ensure_partitions((FIRST - timedelta(days=1)).date(), LAST.date(), history.DAY_TABLE)
    energy = ", ".join(f"random() * 1000 AS {name}" for name in history.ENERGY)
    names = ", ".join(history.ENERGY)
    month = FIRST
    with connection.cursor() as cursor:
        while month < LAST:  # a month per statement, hour by hour in the order ticks write them
            following = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)
            cursor.execute(
                f"INSERT INTO {history.HOUR_TABLE} (owner_id, hour_start, {names}) "
                f"SELECT o, h, {energy} FROM generate_series(%s::timestamptz, %s, '1 hour') h, unnest(%s::int[]) o "
                "ORDER BY h, o",
                [month, following - timedelta(hours=1), ids],
            )
            month = following
        cursor.execute(
            f"INSERT INTO {history.DAY_TABLE} (owner_id, day_start, {names}) "
            f"SELECT o, d::timestamp AT TIME ZONE %s, {energy} "
            "FROM generate_series(%s::date, %s::date - 1, '1 day') d, unnest(%s::int[]) o ORDER BY d, o",
            [ZONE, FIRST.date(), LAST.date(), ids],
        )
        cursor.execute(
            f"INSERT INTO {history.RUNNING_TABLE} (owner_id, hour_start, day_start, {names}) "
            f"SELECT o, %s, %s, {energy} FROM unnest(%s::int[]) o",
            [LAST, LAST - timedelta(hours=1), ids],
        )
    return users


def storage(homes: int) -> dict[str, float]:
    from django.db import connection

    from hems.simulation import history

    sizes = {}
    with connection.cursor() as cursor:
        for table in (history.HOUR_TABLE, history.DAY_TABLE, history.RUNNING_TABLE):
            cursor.execute(
                "SELECT COALESCE(sum(pg_relation_size(relid)), 0), COALESCE(sum(pg_indexes_size(relid)), 0) "
                "FROM pg_partition_tree(%s)",
                [table],
            )
            heap, indexes = cursor.fetchone()
            sizes[table] = (float(heap) / homes / 1e6, float(indexes) / homes / 1e6)
    return sizes


def api_latency(users, start, end, interval: str, calls: int) -> tuple[float, float]:
    import json
    import random

    from graphql_jwt.shortcuts import get_token

    post = graphql_poster()
    rng = random.Random(7)
    tokens = [get_token(user) for user in rng.sample(users, min(50, len(users)))]
    variables = {"s": start.isoformat(), "e": end.isoformat(), "i": interval}
    body = json.dumps({"query": QUERY, "variables": variables}).encode()
    timings = []
    for _ in range(calls):
        token = rng.choice(tokens)
        started = time.perf_counter()
        post(body, token)
        timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings, 50), percentile(timings, 99)


def with_graphql_core_execution(measure):
    """``measure()`` with the API executing as graphql-core does, without hems's quick
    path for scalars read off their object (hems.api.execution), to compare."""
    from graphql import ExecutionContext

    from hems.api import execution, view

    class GraphqlCore(ExecutionContext):
        is_awaitable = staticmethod(execution.awaitable)

    kept, view.Execution = view.Execution, GraphqlCore
    try:
        return measure()
    finally:
        view.Execution = kept


def sql_latency(users, start, end, interval: str, calls: int) -> tuple[float, float]:
    import random
    from zoneinfo import ZoneInfo

    from hems.simulation import history

    rng = random.Random(11)
    zone = ZoneInfo(ZONE)
    timings = []
    for _ in range(calls):
        owner = rng.choice(users).pk
        started = time.perf_counter()
        history.buckets(owner, start, end, interval.lower(), zone)
        timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings, 50), percentile(timings, 99)


def rollup_cost(runs: int = 5) -> tuple[float, float]:
    """Seconds of ``rollup.roll_up`` for a shard: a regular tick, the tick at the hour."""
    import numpy as np
    from django.db import connection, transaction

    from hems.simulation import history, rollup
    from hems.simulation.pgcopy import copy_in

    owners = np.arange(10_000_000, 10_000_000 + SHARD, dtype=np.int64)
    hour = LAST.timestamp()
    names = ", ".join(history.ENERGY)
    with connection.cursor() as cursor:  # the shard's homes, each with its running hour
        cursor.execute(
            f"INSERT INTO {history.RUNNING_TABLE} (owner_id, hour_start, day_start, {names}) "
            f"SELECT o, to_timestamp(%s), to_timestamp(%s), {', '.join(['1.0'] * len(history.ENERGY))} "
            "FROM unnest(%s::int[]) o",
            [hour, hour - 3600, owners.tolist()],
        )
    rng = np.random.default_rng(5)

    def once(hour_start: float) -> float:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS hems_tick_energy (owner_id bigint, period_start float8, "
                "period_end float8, hour_start float8, day_start float8, "
                + ", ".join(f"{name} float8" for name in history.ENERGY)
                + ") ON COMMIT DELETE ROWS"
            )
            copy_in(
                cursor,
                "hems_tick_energy",
                [("owner_id", "int8", owners), ("period_start", "float8", np.full(SHARD, hour_start))]
                + [("period_end", "float8", np.full(SHARD, hour_start + 60))]
                + [("hour_start", "float8", np.full(SHARD, hour_start))]
                + [("day_start", "float8", np.full(SHARD, hour - 3600))]
                + [(name, "float8", rng.random(SHARD)) for name in history.ENERGY],
            )
            history.ensure_partitions_between(hour - 86400, hour_start, history.HOUR_TABLE)
            history.ensure_partitions_between(hour - 86400, hour_start, history.DAY_TABLE)
            started = time.perf_counter()
            rollup.roll_up(cursor)
            elapsed = time.perf_counter() - started
            transaction.set_rollback(True)
        return elapsed

    regular = statistics.median(once(hour) for _ in range(runs))
    at_hour = statistics.median(once(hour + 3600) for _ in range(runs))
    return regular, at_hour


def run(homes: int, calls: int, database: str) -> dict:
    import django

    recreate(database)
    os.environ["DATABASE_URL"] = bench_url(database)
    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    users = seed(homes)
    print(f"  seeded {homes:,} homes x a year in {time.perf_counter() - started:.1f}s", flush=True)
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    result = {"storage_as_written": storage(homes), "latency": {}}
    from hems.simulation import history

    history.compact_closed_partitions(LAST.date())  # as the daily maintenance does, each month
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    result["storage"] = storage(homes)
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo(ZONE)
    year = (datetime(2025, 12, 1, tzinfo=berlin), datetime(2026, 12, 1, tzinfo=berlin))
    cases = {
        "year by MONTH": (*year, "MONTH"),
        "year by WEEK": (datetime(2025, 12, 1, tzinfo=berlin), year[1], "WEEK"),
        "year by DAY": (*year, "DAY"),
        "month by HOUR": (datetime(2026, 11, 1, tzinfo=berlin), year[1], "HOUR"),
    }
    from hems.web_server import warm_and_freeze

    warm_and_freeze()  # as each web worker does before its first request (bench/tick.py too)
    for name, (start, end, interval) in cases.items():
        result["latency"][name] = (
            api_latency(users, start, end, interval, calls),
            sql_latency(users, start, end, interval, calls),
            with_graphql_core_execution(lambda: api_latency(users, start, end, interval, calls)),  # noqa: B023
        )
        print(f"  {name} done", flush=True)
    result["rollup"] = rollup_cost()
    connection.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--database", default="hems_bench_history")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    options = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, load average {os.getloadavg()}, "
        f"reference work {machine_reference_ms():.1f} ms"
    )
    result = run(options.homes, options.calls, options.database)

    print(f"\n{options.homes:,} homes, a year each (8,760 hours, 365 days, the running hour)\n")
    for key, title in (("storage_as_written", "as the roll-up writes it"), ("storage", "closed months packed")):
        print(f"\nstorage, {title}:\n")
        print("| table | heap (MB/home/year) | indexes (MB/home/year) | total |")
        print("|---|---|---|---|")
        total = 0.0
        for table, (heap, indexes) in result[key].items():
            total += heap + indexes
            print(f"| {table} | {heap:.3f} | {indexes:.3f} | {heap + indexes:.3f} |")
        print(f"| all | | | {total:.3f} |")
    print(
        f"\n| energyHistory ({options.calls} calls) | API p50/p99 (ms) | history.buckets p50/p99 (ms) "
        "| API, graphql-core's execution p50/p99 (ms) |"
    )
    print("|---|---|---|---|")
    for name, (api, sql, core) in result["latency"].items():
        print(f"| {name} | {api[0]:.1f}/{api[1]:.1f} | {sql[0]:.1f}/{sql[1]:.1f} | {core[0]:.1f}/{core[1]:.1f} |")
    regular, at_hour = result["rollup"]
    print(f"\n| roll-up per shard of {SHARD:,} homes | ms |")
    print("|---|---|")
    print(f"| regular tick (running upsert) | {regular * 1000:.1f} |")
    print(f"| tick at the hour (+ hour and day rows) | {at_hour * 1000:.1f} |")
    if not options.keep:
        drop(options.database)


if __name__ == "__main__":
    main()
