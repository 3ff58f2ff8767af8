#!/usr/bin/env python
"""One worker host against two, on the same data; prints figures for BENCHMARKS.md.

    sudo .venv/bin/python bench/multihost.py                 # 2,000 homes x 50, shards of 250
    sudo .venv/bin/python bench/multihost.py --homes 500 --shard 100 --ticks 8

Builds hosts A, B and C on this machine as the multi-host test does (network
namespaces, hems/tests/multihost): PostgreSQL and Redis on A, the tick's ticks
queued from B, then for each configuration the workers started on B alone or on B
and C (``bin/hems worker``, WORKER_CONCURRENCY processes each). For each tick it
measures the wall time from publishing the tick to its last shard's commit; the
first ticks of each configuration are warm-up (a worker process reads a shard whole
the first time it gets it), the rest are reported (median and best), with a shard's
mean time and mean load time in the workers' logs, the shards each host took and the
most PostgreSQL connections each host held at once.

The namespaces share this machine's cores: two hosts here are not two machines'
worth of CPU. What the figure shows is that shards spread over hosts through the
broker with no shared state, and what the broker and the network path cost; what it
cannot show is the speed-up of a second machine (see BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import signal
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

from hems.tests.multihost import hosts, netns  # noqa: E402

APPLIED = re.compile(r"tick_shard\[[^\]]+\] succeeded in ([\d.]+)s: (\{.*\})")
CONFIGS = [
    ("one host, 1 process", {"b": 1}),
    ("two hosts, 1 process each", {"b": 1, "c": 1}),
    ("one host, 2 processes", {"b": 2}),
    ("two hosts, 2 processes each", {"b": 2, "c": 2}),
]


def shards_in(log: str, instants: set[str]) -> list[tuple[float, float]]:
    """Seconds of each shard this worker applied at the measured instants, and of its load."""
    found = []
    for match in APPLIED.finditer(log):
        result = ast.literal_eval(match.group(2))
        if result["applied"] and datetime.fromisoformat(result["instant"]).isoformat() in instants:
            found.append((float(match.group(1)), result["seconds"]["load"]))
    return found


def sample_connections(cluster, peak: dict[str, int], done: threading.Event) -> None:
    """The most connections each host held at once while the ticks ran (Celery's Django
    fixup closes a worker's connection after every task: they open and close per shard)."""
    with cluster.observe() as conn:
        while not done.wait(0.02):
            rows = conn.execute(
                "SELECT host(client_addr), count(*) FROM pg_stat_activity WHERE client_addr IS NOT NULL GROUP BY 1"
            ).fetchall()
            for address, count in rows:
                peak[address] = max(peak.get(address, 0), count)


def run_config(cluster, n: int, label: str, workers: dict[str, int], instants: list[datetime], warmup: int) -> dict:
    processes = {
        host: cluster.hems(host, "worker", f"{n}-{host}", WORKER_CONCURRENCY=str(concurrency))
        for host, concurrency in workers.items()
    }
    deadline = time.monotonic() + 120
    while not all(" ready." in cluster.log(f"{n}-{host}") for host in workers):
        if time.monotonic() > deadline:
            raise RuntimeError(f"workers of {label!r} did not start")
        time.sleep(0.2)
    code = f"from hems.tests.multihost.drive import drive\ndrive({[i.isoformat() for i in instants]!r})"
    peak: dict[str, int] = {}
    done = threading.Event()
    sampler = threading.Thread(target=sample_connections, args=(cluster, peak, done))
    sampler.start()
    try:
        output = cluster.manage("b", "shell", "-c", code, timeout=1800)
    finally:
        done.set()
        sampler.join()
    took = json.loads(output.strip().splitlines()[-1])[warmup:]
    for process in processes.values():
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    measured = {i.isoformat() for i in instants[warmup:]}
    per_host = {host: shards_in(cluster.log(f"{n}-{host}"), measured) for host in workers}
    return {
        "label": label,
        "took": took,
        "shards": {host: len(times) for host, times in per_host.items()},
        "shard_mean": statistics.mean(t for times in per_host.values() for t, _ in times),
        "load_mean": statistics.mean(load for times in per_host.values() for _, load in times),
        "connections": {host: peak.get(cluster[host].address, 0) for host in workers},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, default=2000)
    parser.add_argument("--devices-per-home", type=int, default=50)
    parser.add_argument("--shard", type=int, default=250, help="HEMS_TICK_HOMES_PER_SHARD")
    parser.add_argument("--ticks", type=int, default=8, help="per configuration and round, warm-up included")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2, help="the configurations in turn, this many times over")
    args = parser.parse_args()
    reason = netns.unavailable() or hosts.unavailable()
    if reason:
        sys.exit(f"bench/multihost.py: {reason}")

    with hosts.Cluster(("a", "b", "c"), HEMS_TICK_HOMES_PER_SHARD=str(args.shard)) as cluster:
        cluster.manage("b", "migrate", "--no-input", "--verbosity", "0")
        started = time.perf_counter()
        cluster.manage(
            "b", "seed", "--homes", str(args.homes), "--devices-per-home", str(args.devices_per_home),
            "--verbosity", "0", timeout=3600,
        )  # fmt: skip
        seeded = time.perf_counter() - started
        devices = args.homes * args.devices_per_home
        shards = args.homes // args.shard + 1
        print(f"{args.homes:,} homes x {args.devices_per_home} = {devices:,} devices, {shards} shards of "
              f"{args.shard} homes; seeded in {seeded:.0f} s")  # fmt: skip
        # Instants a minute apart, in the past, increasing across rounds and configurations.
        runs = args.rounds * len(CONFIGS)
        first = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=runs * args.ticks + 5)
        rows: dict[str, list[dict]] = {}
        for run in range(runs):
            label, workers = CONFIGS[run % len(CONFIGS)]
            instants = [first + timedelta(minutes=run * args.ticks + k) for k in range(args.ticks)]
            rows.setdefault(label, []).append(run_config(cluster, run, label, workers, instants, args.warmup))
        print(f"{'configuration':28} {'tick median':>11} {'best':>7} {'shard':>7} {'load':>6}  shards (peak conns)")
        for label, found in rows.items():
            took = [t for row in found for t in row["took"]]
            shard_mean = statistics.mean(row["shard_mean"] for row in found)
            load_mean = statistics.mean(row["load_mean"] for row in found)
            taken = ", ".join(
                f"{host.upper()} {sum(r['shards'][host] for r in found)} ({max(r['connections'][host] for r in found)})"
                for host in found[0]["shards"]
            )
            median, best = statistics.median(took), min(took)
            print(f"{label:28} {median:>9.2f} s {best:>5.2f} s {shard_mean:>5.2f} s {load_mean:>4.2f} s  {taken}")


if __name__ == "__main__":
    main()
