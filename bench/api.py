#!/usr/bin/env python
"""API latency in-process, through Django's full request stack (as bench/tick.py measures it),
or over HTTP to the server as deployed (``--http``).

    .venv/bin/python bench/api.py                     # 200 homes x 50, 500 requests per query
    .venv/bin/python bench/api.py --profile           # and the top of a cProfile of each
    .venv/bin/python bench/api.py --reuse             # skip the seeding: the database is there
    .venv/bin/python bench/api.py --reuse --no-freeze # without the web worker's start (hems.web_server)
    .venv/bin/python bench/api.py --reuse --http      # over HTTP to bin/hems web (one worker), as deployed
    .venv/bin/python bench/api.py --reuse --http --clients 8  # and 8 clients at once: throughput

Recreates the database ``hems_bench_api`` (on the server of DATABASE_URL), seeds the
homes, runs one tick (so every home has states and cached stats), then times
``energyStats`` and ``allDevices`` (bench/tick.py's queries) with a Bearer token of a
random one of 50 users per request, and prints p50/p99 in ms. The queries are per user,
so the database's size does not matter to them.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]
import tick  # noqa: E402  (bench/tick.py: the environment, the database helpers, percentile)

DATABASE = "hems_bench_api"
QUERIES = {
    "energyStats": "{ energyStats { netGridFlow currentProduction } }",
    "allDevices": "{ allDevices { id name kind status powerW ... on StorageDevice { levelWh flowW capacityWh } } }",
}


def timings(
    query: str, tokens: list[str], requests: int, profile: cProfile.Profile | None, cpu: list[float] | None = None
) -> list[float]:
    """Milliseconds per request, each through Django's full stack as gunicorn calls it
    (tick.latency's loop); this process's CPU milliseconds of each appended to ``cpu``
    (the database's not counted)."""
    post = tick.graphql_poster()
    rng = random.Random(3)
    body = json.dumps({"query": query}).encode()
    result = []
    for _ in range(requests):
        token = rng.choice(tokens)
        if profile is not None:
            profile.enable()
        started, used = time.perf_counter(), time.process_time()
        post(body, token)
        result.append((time.perf_counter() - started) * 1000)
        if cpu is not None:
            cpu.append((time.process_time() - used) * 1000)
        if profile is not None:
            profile.disable()
    return result


def over_http(tokens: list[str], requests: int, clients: int) -> None:
    """The same requests over HTTP/1.1 (one keep-alive connection per client) to
    ``bin/hems web`` with one worker on loopback: gunicorn, uvicorn, the ASGI application,
    the database pool. Each client a thread of this process (the server is another)."""
    import http.client
    import socket
    import subprocess
    import threading

    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    env = {**os.environ, "HEMS_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1", "DEBUG": "false"}
    env["LOG_LEVEL"] = "WARNING"
    server = subprocess.Popen([str(tick.ROOT / "bin" / "hems"), "web"], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            try:
                probe.request("GET", "/healthz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit("bin/hems web did not come up") from None
                time.sleep(0.2)
            finally:
                probe.close()
        load = os.getloadavg()
        print(
            f"{os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, over HTTP, {clients} client(s), "
            f"{requests} requests each query, reference work {tick.machine_reference_ms():.1f} ms"
        )
        print("| query | p50 (ms) | p99 (ms) | max (ms) | requests/s |")
        print("|---|---|---|---|---|")
        for name, query in QUERIES.items():
            body = json.dumps({"query": query}).encode()
            values: list[float] = []
            for timed, count in ((False, 20), (True, requests // clients)):  # warm-up, then timed
                threads = [
                    threading.Thread(target=http_client, args=(port, body, tokens, count, i, values if timed else []))
                    for i in range(clients)
                ]
                started = time.perf_counter()
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                elapsed = time.perf_counter() - started
            if len(values) != clients * (requests // clients):
                raise SystemExit(f"{name}: a request failed (see above)")
            p50, p99 = tick.percentile(values, 50), tick.percentile(values, 99)
            print(f"| {name} | {p50:.2f} | {p99:.2f} | {max(values):.2f} | {len(values) / elapsed:.0f} |", flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)


def http_client(port: int, body: bytes, tokens: list[str], count: int, seed: int, values: list[float]) -> None:
    """``count`` requests on one keep-alive connection, each one's milliseconds appended
    to ``values``; stops at the first that fails, printing it."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random(seed)
    for _ in range(count):
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {rng.choice(tokens)}"}
        started = time.perf_counter()
        connection.request("POST", "/graphql/", body, headers)
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200 or b'"errors"' in answer:
            print(f"failed: {response.status} {answer[:300]!r}")
            return
        values.append((time.perf_counter() - started) * 1000)


def compare(tokens: list[str], requests: int, rounds: int) -> None:
    """p50/p99 of each query with and without issue 14's changes, over alternating rounds
    of ``requests // rounds`` requests each (the load of the machine hits both alike)."""
    values: dict[tuple[str, str], list[float]] = {}
    cpu: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for variant, off in (("before", True), ("after", False)):
            without_issue_14(off)
            for name, query in QUERIES.items():
                timings(query, tokens, 5, None)  # the first after a switch compiles and caches
                used = cpu.setdefault((name, variant), [])
                values.setdefault((name, variant), []).extend(timings(query, tokens, requests // rounds, None, used))
    without_issue_14(False)
    load = os.getloadavg()
    print(
        f"{os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {rounds} alternating rounds, "
        f"reference work {tick.machine_reference_ms():.1f} ms"
    )
    print("| query | before p50 / p99 (ms) | after p50 / p99 (ms) | CPU of this process p50, before / after (ms) |")
    print("|---|---|---|---|")
    for name in QUERIES:
        cells = []
        for variant in ("before", "after"):
            got = values[(name, variant)]
            cells.append(f"{tick.percentile(got, 50):.2f} / {tick.percentile(got, 99):.2f}")
        before, after = (tick.percentile(cpu[(name, variant)], 50) for variant in ("before", "after"))
        print(f"| {name} | {cells[0]} | {cells[1]} | {before:.2f} / {after:.2f} |")


def without_issue_14(off: bool) -> None:
    """Switch off, in this process, what issue 14 added (for --compare): the documents
    kept, the compiled listing and user lookup, the planned joins, the quick execution
    context, the CSRF cookie no longer set and the health check without a round trip."""
    from contextlib import nullcontext

    from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper
    from graphql_jwt import utils as jwt_utils
    from graphql_jwt.settings import jwt_settings

    from hems.api import documents, view
    from hems.api.atomic import AtomicMutations
    from hems.api.devices import listing, plan, queries
    from hems.api.execution import Execution
    from hems.devices.models import Device
    from hems.postgresql.base import DatabaseWrapper

    # (object, attribute, its value with issue 14's work off)
    switched = [
        (queries, "devices_of", lambda owner_id: Device.objects.with_kinds().filter(owner_id=owner_id)),
        (plan, "joins_as_written", nullcontext),
        (listing, "joins_as_written", nullcontext),
        (view, "Execution", AtomicMutations),
        (view, "_graphene_dispatch", view.GraphQLView.dispatch),  # with its CSRF cookie
        (jwt_settings, "JWT_GET_USER_BY_NATURAL_KEY_HANDLER", jwt_utils.get_user_by_natural_key),  # the ORM's
        (DatabaseWrapper, "is_usable", DjangoWrapper.is_usable),  # the health check's SELECT 1
    ]
    saved = without_issue_14.__dict__.setdefault("saved", [getattr(obj, name) for obj, name, _ in switched])
    documents.documents.clear()
    documents.documents.max_documents = 0 if off else documents.MAX_DOCUMENTS
    for (obj, name, value), kept in zip(switched, saved, strict=True):
        setattr(obj, name, value if off else kept)
    assert Execution


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, default=200)
    parser.add_argument("--devices-per-home", type=int, default=50)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of each query")
    parser.add_argument("--reuse", action="store_true", help="reuse a seeded hems_bench_api")
    parser.add_argument(
        "--no-freeze", action="store_true",
        help="skip what a web worker does at start (hems.web_server.warm_and_freeze), to compare",
    )  # fmt: skip
    parser.add_argument(
        "--compare", type=int, default=0, metavar="ROUNDS",
        help="alternate ROUNDS times between the API as it is and without issue 14's changes",
    )  # fmt: skip
    parser.add_argument("--http", action="store_true", help="time the requests over HTTP to bin/hems web instead")
    parser.add_argument("--clients", type=int, default=1, help="with --http: clients at once, each its connection")
    options = parser.parse_args()

    import django

    if not options.reuse:
        tick.recreate(DATABASE)
    os.environ["DATABASE_URL"] = tick.bench_url(DATABASE)
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from graphql_jwt.shortcuts import get_token

    from hems.simulation.seeding import seed
    from hems.simulation.tick import run_tick

    if not options.reuse:
        call_command("migrate", verbosity=0)
        seed(options.homes, options.devices_per_home, prefix="bench")
        run_tick(tick.START)
    users = list(get_user_model().objects.filter(username__startswith="bench").order_by("?")[:50])
    tokens = [get_token(user) for user in users]
    for query in QUERIES.values():
        timings(query, tokens, 20, None)  # warm-up: connections, caches, lazy imports
    if not options.no_freeze:
        from hems.web_server import warm_and_freeze

        warm_and_freeze()  # as each web worker does before its first request

    if options.http:
        over_http(tokens, options.requests, options.clients)
        return
    if options.compare:
        compare(tokens, options.requests, options.compare)
        return
    load = os.getloadavg()
    print(
        f"{os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {options.requests} requests each, "
        f"reference work {tick.machine_reference_ms():.1f} ms before"
    )
    print("| query | p50 (ms) | p99 (ms) | p99.9 (ms) | max (ms) | mean (ms) |")
    print("|---|---|---|---|---|---|")
    profiles = {}
    for name, query in QUERIES.items():
        profile = cProfile.Profile() if options.profile else None
        values = timings(query, tokens, options.requests, profile)
        p50, p99 = tick.percentile(values, 50), tick.percentile(values, 99)
        p999, mean = tick.percentile(values, 99.9), sum(values) / len(values)
        print(f"| {name} | {p50:.2f} | {p99:.2f} | {p999:.2f} | {max(values):.2f} | {mean:.2f} |", flush=True)
        profiles[name] = profile
    print(f"reference work {tick.machine_reference_ms():.1f} ms after")
    for name, profile in profiles.items():
        if profile is None:
            continue
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(40)
        print(f"\n## {name}: cProfile, by cumulative time\n{out.getvalue()}")
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(25)
        print(f"\n## {name}: cProfile, by own time\n{out.getvalue()}")


if __name__ == "__main__":
    main()
