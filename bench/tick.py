#!/usr/bin/env python
"""Benchmark the tick and the API at several sizes; prints figures for BENCHMARKS.md.

    .venv/bin/python bench/tick.py                       # 200, 2,000, 10,000 and 40,000 homes x 50
    .venv/bin/python bench/tick.py --homes 200 2000 --requests 100

For each size it recreates the database (``--database``, default ``hems_bench``, on
the server of DATABASE_URL), seeds the homes (timed), runs warm-up ticks (every
device's first simulation, an hour filed: see START), then measures:
  - in a fresh process, as a restarted Celery worker process is (Django set up, the
    tasks imported, ``worker_process_init`` run): its first tick, then regular ticks
    (the median is "tick, 1 process", with its breakdown), the tick that files the
    hour (see START) and the process's peak RSS;
  - as a Celery worker with HEMS_TICK_PRELOAD starts a pool process: every shard read
    whole in this process, which then forks; the forked process's first tick;
  - one tick with the shards spread over --workers processes (as a Celery worker
    with that concurrency runs them): the wall time;
  - the raw floor: reading every state row (binary COPY into numpy) and writing
    them all back (binary COPY into a temporary table, one UPDATE ... FROM), right
    after the regular ticks, in the same run;
  - energyStats and allDevices latency through Django's full request stack
    (in-process WSGI, Bearer token), p50 and p99.
Each part's wall time is printed as it finishes.
"""

from __future__ import annotations

import argparse
import gc
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

# A Monday noon in Europe. Warm-ups at 10:00 and 10:01, which files the hour 09:00, so
# that the day rows of today exist, as they do for 23 hours of every 24; then, after a
# gap, ticks one minute apart: two warm-ups, the tick over two processes, the fresh
# process's first and regular ones (the last at 11:00), and the tick that files the
# hour, integrating one minute like the regular ones. A tick counts in the hour its
# span starts in, so the 11:00 tick (10:59 to 11:00) still adds to the hour 10:00 and
# the 11:01 one ends it for every device and home: every home's hour into the rolled-up
# rows (homes in whole-hour zones; a half-hour zone's hours end at half past), every
# device's into its state row's waiting hour, or filed into the hourly history and its
# day's row where 11:01 is the device's filing minute (HEMS_DEVICE_HOUR_FILING_MINUTES:
# each tick, the regular ones too, files about a sixtieth of the devices' hours).
START = datetime(2026, 6, 22, 10, 54, tzinfo=UTC)
HOUR_BEFORE = START.replace(minute=0)
REGULAR_TICKS = 3  # in the fresh process, after its first one: the median is reported


def bench_url(name: str) -> str:
    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hems"))
    return urlunparse(url._replace(path=f"/{name}"))


def recreate(name: str) -> None:
    import psycopg

    url = urlparse(bench_url("postgres"))
    with psycopg.connect(urlunparse(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop(name: str) -> None:
    import psycopg

    with psycopg.connect(bench_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def machine_reference_ms() -> float:
    """Milliseconds of a fixed piece of pure-Python work (JSON both ways, a loop), the
    median of seven: printed beside the figures, so that runs on VMs of one kind, whose
    CPU speed has been seen to swing by half within minutes, can be set side by side."""
    import json
    import statistics

    document = {f"k{i}": [i * 1.5, str(i), {"a": i}] for i in range(2000)}
    timings = []
    for _ in range(7):
        started = time.perf_counter()
        for _ in range(5):
            json.loads(json.dumps(document))
        total = 0
        for i in range(200_000):
            total += i % 7
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


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


def fresh_worker(database_url: str, first: datetime, regular: int) -> dict:
    """A new process, as a restarted worker process is: its first tick, ``regular``
    more a minute apart, then the one that files the hour; its peak RSS."""
    import resource
    import statistics
    from collections import Counter

    os.environ["DATABASE_URL"] = database_url
    started = time.perf_counter()
    import django

    django.setup()
    from celery.signals import worker_process_init

    import hems.simulation.tasks  # noqa: F401  (what the worker imports: its signal handlers)
    from hems.simulation.tick import run_tick

    worker_process_init.send(sender=None)
    setup = time.perf_counter() - started

    def timed(instant):
        mark = time.perf_counter()
        reports = run_tick(instant)
        phases = Counter()
        for r in reports:
            phases.update(r.seconds)
        phases["rows_written"] = sum(r.written for r in reports)  # the state rows whose state changed
        return time.perf_counter() - mark, dict(phases)

    first_s, first_phases = timed(first)
    ticks = [timed(first + timedelta(minutes=1 + i)) for i in range(regular)]
    hour = first + timedelta(minutes=1 + regular)
    assert hour.minute == 1, hour  # the first tick whose span starts in the new hour
    hour_s, hour_phases = timed(hour)
    median = statistics.median(t for t, _ in ticks)
    phases = min(ticks, key=lambda t: abs(t[0] - median))[1]
    return {
        "setup_s": setup, "first_s": first_s, "first_phases": first_phases, "tick_s": median,
        "ticks_s": [t for t, _ in ticks], "phases": phases, "hour_s": hour_s, "hour_phases": hour_phases,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }  # fmt: skip


def forked_tick(at: datetime) -> float:
    from django.db import connections

    from hems.simulation.tick import run_tick

    started = time.perf_counter()
    run_tick(at)
    seconds = time.perf_counter() - started
    connections.close_all()
    return seconds


def forked_first_tick(at: datetime) -> dict:
    """As a Celery worker with ``HEMS_TICK_PRELOAD`` (hems.simulation.tasks): this
    process, as the worker's main process, reads every shard's configuration, closes
    its connection and forks; the forked process's first tick, as a pool process's
    (a new one, or one replacing a process that died)."""
    from django.db import connections

    from hems.plugins import registry
    from hems.simulation import loader
    from hems.simulation.tick import shard_bounds, shard_count

    loader.forget()  # this process's own ticks are not the main process's
    started = time.perf_counter()
    loader.preload(registry(), [shard_bounds(shard) for shard in range(shard_count())])
    preload_s = time.perf_counter() - started
    connections.close_all()
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("fork")) as pool:
        first_s = pool.submit(forked_tick, at).result()
    loader.forget()
    return {"preload_s": preload_s, "first_s": first_s}


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


def graphql_poster():
    """``post(body, token) -> bytes``: one GraphQL request to /graphql/ with a Bearer
    token, as gunicorn makes it: hems.wsgi's application called with a server's environ,
    its answer read through and closed. A refused or failed request raises.

    Not Django's test ``Client``: its handler reconnects a signal receiver on every
    request, and each connection leaves a ``weakref.finalize`` alive as long as the
    receiver (three a request, for the whole run). No server does that; it grows the
    garbage collector's oldest generation, whose passes then add milliseconds to the
    requests that set them off (BENCHMARKS, "The API's garbage").
    """
    import io
    from wsgiref.util import setup_testing_defaults

    from hems.wsgi import application

    def post(body: bytes, token: str) -> bytes:
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/graphql/", "CONTENT_TYPE": "application/json",
            "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "HTTP_AUTHORIZATION": f"Bearer {token}",
        }  # fmt: skip
        setup_testing_defaults(environ)  # the rest a server sets: host, port, protocol, wsgi.*
        status = []
        answer = application(environ, lambda line, headers, exc_info=None: status.append(line))
        try:
            content = b"".join(answer)
        finally:
            answer.close()
        assert status[0].startswith("200 ") and b'"errors"' not in content, (status, content[:300])
        return content

    return post


def latency(path_query: str, users, requests: int) -> tuple[float, float]:
    import json
    import random

    from graphql_jwt.shortcuts import get_token

    post = graphql_poster()
    body = json.dumps({"query": path_query}).encode()
    tokens = [get_token(user) for user in users]
    timings = []
    rng = random.Random(3)
    for _ in range(requests):
        token = rng.choice(tokens)
        started = time.perf_counter()
        post(body, token)
        timings.append((time.perf_counter() - started) * 1000)
    return percentile(timings, 50), percentile(timings, 99)


def run_size(homes: int, devices_per_home: int, workers: int, requests: int, database: str) -> dict:
    import django

    parts: dict[str, float] = {}
    mark = time.perf_counter()

    def part(name: str) -> None:
        nonlocal mark
        now = time.perf_counter()
        parts[name] = now - mark
        mark = now
        print(f"  {homes} homes: {name} {parts[name]:.1f}s", flush=True)

    recreate(database)
    os.environ["DATABASE_URL"] = bench_url(database)
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connections

    from hems.simulation.seeding import seed
    from hems.simulation.tick import run_tick, shard_count

    call_command("migrate", verbosity=0)
    part("migrate")
    report = seed(homes, devices_per_home, prefix="bench")
    part("seed")
    run_tick(HOUR_BEFORE)  # warm-up: first simulation of every device, partitions
    run_tick(HOUR_BEFORE + timedelta(minutes=1))  # files the hour 09:00: today's day rows
    run_tick(START)  # after the gap (its span simulated in steps)
    run_tick(START + timedelta(minutes=1))  # a regular one: the rows' first rewrite is not the fresh process's
    part("warm-up ticks")

    instant = START + timedelta(minutes=2)
    shards = shard_count()
    connections.close_all()
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"), initializer=init_worker) as pool:
        done = sum(pool.map(shard_worker, [(instant, s) for s in range(shards)]))
    parallel = time.perf_counter() - started
    assert done == report.devices, (done, report.devices)
    part(f"{workers}-process tick")

    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        worker = pool.submit(fresh_worker, bench_url(database), instant + timedelta(minutes=1), REGULAR_TICKS).result()
    part("fresh process ticks")
    forked = forked_first_tick(instant + timedelta(minutes=2 + REGULAR_TICKS + 1))  # after the hour's tick
    part("forked process first tick")
    floor_read, floor_write, floor_rows = raw_floor()
    part("floor")

    users = list(get_user_model().objects.filter(username__startswith="bench").order_by("?")[:50])
    from hems.web_server import warm_and_freeze

    warm_and_freeze()  # as each web worker does before its first request
    stats_p50, stats_p99 = latency("{ energyStats { netGridFlow currentProduction } }", users, requests)
    fragments = "... on StorageDevice { levelWh flowW capacityWh }"
    devices_p50, devices_p99 = latency(
        f"{{ allDevices {{ id name kind status powerW {fragments} }} }}", users, requests
    )
    gc.unfreeze()  # the next size's objects are another database's
    part("API latency")
    connections.close_all()
    return {
        "homes": homes, "devices": report.devices, "shards": shards, "seed_s": parts["seed"],
        "tick_s": worker["tick_s"], "ticks_s": worker["ticks_s"], "first_s": worker["first_s"],
        "setup_s": worker["setup_s"], "parallel_s": parallel, "hour_tick_s": worker["hour_s"], "workers": workers,
        "hour_phases": worker["hour_phases"],
        "phases": worker["phases"], "first_phases": worker["first_phases"], "rss_mb": worker["rss_mb"],
        "floor_read_s": floor_read, "floor_write_s": floor_write, "floor_rows": floor_rows,
        "stats_ms": (stats_p50, stats_p99), "devices_ms": (devices_p50, devices_p99), "parts": parts,
        "forked": forked,
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, nargs="+", default=[200, 2000, 10000, 40000])
    parser.add_argument("--devices-per-home", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--database", default="hems_bench", help="recreated for each size, dropped at the end")
    parser.add_argument("--keep", action="store_true", help="keep the last size's database")
    options = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}, load average {os.getloadavg()}, "
        f"reference work {machine_reference_ms():.1f} ms"
    )
    began = time.perf_counter()
    header = (
        "| homes | devices | shards | seed (s) | tick, 1 process (s) | devices/s "
        f"| tick, {options.workers} processes (s) "
        "| load | simulate | write DB | history | write Redis | floor read+write (s) | tick / floor "
        "| first tick, fresh process (s) | first / tick | tick filing the hour (s) | hour / tick | peak RSS (MB) "
        "| energyStats p50/p99 (ms) | allDevices p50/p99 (ms) |"
    )
    rows, notes = [], []
    for homes in options.homes:
        # Django setup is once per process, so each size runs in its own child process.
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
            result = pool.submit(
                run_size, homes, options.devices_per_home, options.workers, options.requests, options.database
            ).result()
        p = result["phases"]
        floor = result["floor_read_s"] + result["floor_write_s"]
        tick = result["tick_s"]
        row = (
            f"| {result['homes']:,} | {result['devices']:,} | {result['shards']} | {result['seed_s']:.1f} "
            f"| {tick:.2f} | {result['devices'] / tick:,.0f} | {result['parallel_s']:.2f} "
            f"| {p['load']:.2f} | {p['simulate']:.2f} | {p['write_db']:.2f} | {p['history']:.2f} "
            f"| {p['write_redis']:.2f} | {result['floor_read_s']:.2f}+{result['floor_write_s']:.2f} "
            f"| {tick / floor:.2f} | {result['first_s']:.2f} | {result['first_s'] / tick:.2f} "
            f"| {result['hour_tick_s']:.2f} | {result['hour_tick_s'] / tick:.2f} | {result['rss_mb']:,.0f} "
            f"| {result['stats_ms'][0]:.1f}/{result['stats_ms'][1]:.1f} "
            f"| {result['devices_ms'][0]:.1f}/{result['devices_ms'][1]:.1f} |"
        )
        rows.append(row)
        fp, forked = result["first_phases"], result["forked"]
        notes.append(
            f"{homes:,} homes: regular ticks {', '.join(f'{t:.2f}' for t in result['ticks_s'])} s; "
            f"fresh process setup {result['setup_s']:.2f} s, first tick load {fp['load']:.2f} "
            f"simulate {fp['simulate']:.2f} write DB {fp['write_db']:.2f}; tick filing the hour: "
            + ", ".join(f"{name} {result['hour_phases'].get(name, 0):.2f}" for name in ("write_db", "history"))
            + f"; forked from a preloaded main process (HEMS_TICK_PRELOAD): first tick {forked['first_s']:.2f} s "
            f"({forked['first_s'] / tick:.2f} of a regular one), the preload {forked['preload_s']:.2f} s"
            + f"; state rows rewritten: regular tick {p['rows_written']:,} "
            f"({p['rows_written'] / result['devices']:.0%}), at the hour {result['hour_phases']['rows_written']:,} "
            f"({result['hour_phases']['rows_written'] / result['devices']:.0%}); "
            + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result["parts"].items())
        )
        print(f"{homes} homes done:\n{row}\n{notes[-1]}", flush=True)
    if not options.keep:
        drop(options.database)
    print()
    print(header)
    print("|" + "|".join("---" for _ in range(header.count("|") - 1)) + "|")
    for row in rows:
        print(row)
    print()
    for note in notes:
        print(note)
    print(
        f"total {time.perf_counter() - began:.0f} s, load average {os.getloadavg()}, "
        f"reference work {machine_reference_ms():.1f} ms"
    )


if __name__ == "__main__":
    main()
