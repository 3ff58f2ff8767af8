#!/usr/bin/env python
"""Benchmark the tick and the API at several sizes; prints figures for BENCHMARKS.md.

    .venv/bin/python bench/tick.py                       # 200, 2,000 and 10,000 homes x 50
    .venv/bin/python bench/tick.py --homes 200 --requests 100

For each size it recreates the database ``hems_bench`` (on the server of
DATABASE_URL), seeds the homes, runs a warm-up tick, then measures:
  - one tick in this process, shard after shard, with its breakdown;
  - one tick with the shards spread over --workers processes (as a Celery worker
    with that concurrency runs them): the wall time;
  - the raw floor: reading every state row (binary COPY into numpy) and writing
    them all back (binary COPY into a temporary table, one UPDATE ... FROM);
  - energyStats and allDevices latency through Django's full request stack
    (in-process WSGI, Bearer token), p50 and p99.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime, timedelta
from multiprocessing import get_context
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hems.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
# A throwaway database: any signing key will do (a deployment must bring its own).
os.environ.setdefault("SECRET_KEY", "bench-" + secrets.token_urlsafe(40))
os.environ.setdefault("HEMS_HTTPS", "false")  # in-process requests: no TLS proxy to redirect to

START = datetime(2026, 6, 22, 10, 20, tzinfo=UTC)  # a Monday noon in Europe, mid-hour


def bench_url(name: str) -> str:
    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hems"))
    return urlunparse(url._replace(path=f"/{name}"))


def recreate(name: str) -> None:
    import psycopg

    url = urlparse(bench_url("postgres"))
    with psycopg.connect(urlunparse(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def shard_worker(args):
    instant, shard = args
    from django.db import connection

    from hems.simulation.tick import run_shard

    report = run_shard(instant, shard)
    connection.close()
    return report.devices


def init_worker():
    import django

    django.setup()


def raw_floor() -> tuple[float, float, int]:
    """Read every narrow state row and write them back, the fastest way we know."""
    import numpy as np
    from django.db import connection, transaction

    from hems.simulation.pgcopy import copy_in, copy_out

    columns = [("device_id", "int8"), ("power_w", "float8"), ("flow_w", "float8"), ("level_wh", "float8")]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        rows = copy_out(
            cursor,
            "SELECT device_id, power_w, flow_w, COALESCE(level_wh, 'NaN') FROM hems_device_state",
            columns,
        )
    read = time.perf_counter() - started
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE floor_states (device_id int8, power_w float8, flow_w float8, level_wh float8) "
            "ON COMMIT DROP"
        )
        copy_in(cursor, "floor_states", [(name, kind, np.ascontiguousarray(rows[name])) for name, kind in columns])
        cursor.execute(
            "UPDATE hems_device_state s SET power_w = t.power_w + 0, flow_w = t.flow_w, "
            "level_wh = NULLIF(t.level_wh, 'NaN') FROM floor_states t WHERE s.device_id = t.device_id"
        )
    write = time.perf_counter() - started
    return read, write, len(rows)


def latency(path_query: str, users, requests: int) -> tuple[float, float]:
    import json
    import random

    from django.test import Client
    from graphql_jwt.shortcuts import get_token

    client = Client()
    tokens = [get_token(user) for user in users]
    timings = []
    rng = random.Random(3)
    for _ in range(requests):
        token = rng.choice(tokens)
        started = time.perf_counter()
        response = client.post(
            "/graphql/", json.dumps({"query": path_query}), content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )  # fmt: skip
        timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200 and b'"errors"' not in response.content, response.content[:300]
    return percentile(timings, 50), percentile(timings, 99)


def run_size(homes: int, devices_per_home: int, workers: int, requests: int) -> dict:
    import django

    recreate("hems_bench")
    os.environ["DATABASE_URL"] = bench_url("hems_bench")
    django.setup()
    from collections import Counter

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    from hems.simulation.seeding import seed
    from hems.simulation.tick import run_tick, shard_count

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    report = seed(homes, devices_per_home, prefix="bench")
    seeded = time.perf_counter() - started
    run_tick(START)  # warm-up: first simulation of every device, partitions, caches

    started = time.perf_counter()
    reports = run_tick(START + timedelta(minutes=1))
    sequential = time.perf_counter() - started
    phases = Counter()
    for r in reports:
        phases.update(r.seconds)

    instant = START + timedelta(minutes=2)
    shards = shard_count()
    connections.close_all()
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"), initializer=init_worker) as pool:
        done = sum(pool.map(shard_worker, [(instant, s) for s in range(shards)]))
    parallel = time.perf_counter() - started
    assert done == report.devices, (done, report.devices)

    # The tick at the top of the hour also files every device's finished hour.
    started = time.perf_counter()
    run_tick(START.replace(minute=0) + timedelta(hours=1))
    hour_tick = time.perf_counter() - started

    floor_read, floor_write, floor_rows = raw_floor()
    users = list(get_user_model().objects.filter(username__startswith="bench").order_by("?")[:50])
    stats_p50, stats_p99 = latency("{ energyStats { netGridFlow currentProduction } }", users, requests)
    fragments = "... on StorageDevice { levelWh flowW capacityWh }"
    devices_p50, devices_p99 = latency(
        f"{{ allDevices {{ id name kind status powerW {fragments} }} }}", users, requests
    )
    connections.close_all()
    return {
        "homes": homes, "devices": report.devices, "shards": shards, "seed_s": seeded,
        "tick_s": sequential, "parallel_s": parallel, "hour_tick_s": hour_tick, "workers": workers,
        "phases": dict(phases),
        "floor_read_s": floor_read, "floor_write_s": floor_write, "floor_rows": floor_rows,
        "stats_ms": (stats_p50, stats_p99), "devices_ms": (devices_p50, devices_p99),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, nargs="+", default=[200, 2000, 10000])
    parser.add_argument("--devices-per-home", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300)
    options = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")
    header = (
        "| homes | devices | shards | tick, 1 process (s) | devices/s "
        f"| tick, {options.workers} processes (s) | devices/s "
        "| load | simulate | write DB | history | write Redis | floor read+write (s) | tick / floor "
        "| energyStats p50/p99 (ms) | allDevices p50/p99 (ms) | tick at the hour, 1 process (s) |"
    )
    rows = []
    for homes in options.homes:
        # A fresh interpreter state per size would be cleaner; Django setup is once per
        # process, so each size runs in its own child process.
        ctx = get_context("spawn")
        with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
            result = pool.submit(run_size, homes, options.devices_per_home, options.workers, options.requests).result()
        p = result["phases"]
        floor = result["floor_read_s"] + result["floor_write_s"]
        row = (
            f"| {result['homes']:,} | {result['devices']:,} | {result['shards']} | {result['tick_s']:.2f} "
            f"| {result['devices'] / result['tick_s']:,.0f} | {result['parallel_s']:.2f} "
            f"| {result['devices'] / result['parallel_s']:,.0f} | {p['load']:.2f} | {p['simulate']:.2f} "
            f"| {p['write_db']:.2f} | {p['history']:.2f} | {p['write_redis']:.2f} "
            f"| {result['floor_read_s']:.2f}+{result['floor_write_s']:.2f} | {result['tick_s'] / floor:.2f} "
            f"| {result['stats_ms'][0]:.1f}/{result['stats_ms'][1]:.1f} "
            f"| {result['devices_ms'][0]:.1f}/{result['devices_ms'][1]:.1f} | {result['hour_tick_s']:.2f} |"
        )
        rows.append(row)
        print(f"{homes} homes done (seeded in {result['seed_s']:.1f}s)", flush=True)
    print()
    print(header)
    print("|" + "|".join("---" for _ in range(17)) + "|")
    for row in rows:
        print(row)


if __name__ == "__main__":
    main()
