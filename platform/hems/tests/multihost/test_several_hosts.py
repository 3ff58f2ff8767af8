"""hems on three hosts: PostgreSQL and Redis on host A, beat and a worker on host B, a
second worker on host C. Each host is a network namespace of its own (with its own host
name and /tmp) on a private subnet; B and C reach A only by A's address, through
`bin/hems worker` and `bin/hems beat` configured by environment as an operator would.

Every shard of every tick is applied exactly once across the two workers (the claims,
the history rows and the workers' own logs agree), both workers take shards, and a
worker SIGKILLed on host C in the middle of a shard leaves it to be redelivered and
applied once by host B. Root only (CI runs as root); skipped with the reason otherwise.
"""

from __future__ import annotations

import ast
import contextlib
import os
import re
import signal
import sys
from datetime import UTC, datetime, timedelta

import pytest

from hems.simulation.shardlock import BLOCK, NAMESPACE
from hems.tests.multihost import hosts, netns
from hems.tests.workers import wait_for

pytestmark = pytest.mark.slow

HOMES = 150
# A shard is one block of the shard lock's keys, so that holding a key holds that shard.
SHARD_SIZE = BLOCK
SHARDS = HOMES // SHARD_SIZE + 1  # owner ids 1..150 in ranges of 64 from 0
VISIBILITY = 8  # seconds before a dead worker's shard goes back to the queue (300 in production)
APPLIED = re.compile(r"tick_shard\[[^\]]+\] succeeded in [\d.]+s: (\{.*\})")


@pytest.fixture
def cluster():
    reason = netns.unavailable() or hosts.unavailable()
    if reason:
        pytest.skip(f"several hosts on one machine need network namespaces: {reason}")
    settings = {
        "HEMS_TICK_HOMES_PER_SHARD": str(SHARD_SIZE),
        "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY),
        "WORKER_CONCURRENCY": "1",
    }
    with hosts.Cluster(("a", "b", "c"), pg_settings={"log_connections": "on"}, **settings) as cluster:
        try:
            cluster.manage("b", "migrate", "--no-input")
            cluster.manage("b", "seed", "--homes", str(HOMES), "--devices-per-home", "5", "--verbosity", "0")
            yield cluster
        finally:
            for name in ("drive", "worker-b", "worker-c", "worker-c2", "beat-b", "postgres"):
                print(f"----- {name} -----\n{cluster.log(name)[-5000:]}")


def applied(log: str) -> list[tuple[str, int, bool]]:
    """(instant, shard, applied) for every shard a worker's log says it finished."""
    results = [ast.literal_eval(m.group(1)) for m in APPLIED.finditer(log)]
    return [(datetime.fromisoformat(r["instant"]).isoformat(), r["shard"], r["applied"]) for r in results]


@contextlib.contextmanager
def shards_held(cluster):
    """Hold every shard's advisory lock (its one key) from outside the hosts: a worker
    that takes a shard claims it and then waits, inside its transaction, until the
    block ends."""
    with cluster.observe() as conn:
        for shard in range(SHARDS):
            conn.execute("SELECT pg_advisory_lock(%s::int4, %s::int4)", [NAMESPACE, shard])
        yield


def waiting(cluster) -> dict[str, int]:
    """The host address of each backend waiting for a shard's lock, and that shard."""
    with cluster.observe() as conn:
        rows = conn.execute(
            "SELECT host(a.client_addr), l.objid::int FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND NOT l.granted AND l.classid = %s::oid",
            [NAMESPACE],
        ).fetchall()
    return dict(rows)


def claims(cluster) -> dict[str, list[int]]:
    with cluster.observe() as conn:
        rows = conn.execute("SELECT instant, shard FROM hems_tick_shard ORDER BY instant, shard").fetchall()
    found: dict[str, list[int]] = {}
    for instant, shard in rows:
        found.setdefault(instant.astimezone(UTC).isoformat(), []).append(shard)
    return found


def complete(cluster, instant: datetime) -> bool:
    return claims(cluster).get(instant.isoformat()) == list(range(SHARDS))


def send_ticks(cluster, host: str, instants: list[datetime]):
    """Queue ticks at chosen instants from a host, as beat would (beat fires the live
    minute): each once the one before has committed, as beat's minutes follow each
    other (two ticks raced out of order, the older one would find its devices newer
    and write nothing). Returns the sending process, running on the host."""
    code = f"from hems.tests.multihost.drive import drive\ndrive({[i.isoformat() for i in instants]!r})"
    return cluster[host].popen(
        [sys.executable, "manage.py", "shell", "-c", code], cluster.env, cluster.logs / "drive.log", cwd=hosts.ROOT
    )


def settled(cluster) -> bool:
    """Nothing queued or taken but unacknowledged, and every tick claimed is complete."""
    redis = cluster.observe_redis()
    if redis.llen("hems") or redis.hlen("unacked"):
        return False
    return all(shards == list(range(SHARDS)) for shards in claims(cluster).values())


def ready(cluster, log: str) -> bool:
    return " ready." in cluster.log(log)


def test_two_worker_hosts_apply_every_shard_once_and_take_over_a_killed_one(cluster):
    b, c = cluster["b"], cluster["c"]
    worker_b = cluster.hems("b", "worker", "worker-b")
    worker_c = cluster.hems("c", "worker", "worker-c")
    wait_for(lambda: ready(cluster, "worker-b") and ready(cluster, "worker-c"), what="the workers on B and C")
    assert "celery@hems-b" in cluster.log("worker-b") and "celery@hems-c" in cluster.log("worker-c")

    minute = datetime.now(UTC).replace(second=0, microsecond=0)
    t1, t2, t3 = (minute - timedelta(minutes=m) for m in (10, 9, 8))

    # Two ticks while every shard is held: both workers take one and wait on it, so both
    # hosts work whatever the timing; their connections come from their own addresses.
    with shards_held(cluster):
        sender = send_ticks(cluster, "b", [t1, t2])
        wait_for(lambda: set(waiting(cluster)) == {b.address, c.address}, what="a shard taken on B and on C")
    assert sender.wait(timeout=120) == 0, cluster.log("drive")
    assert complete(cluster, t1) and complete(cluster, t2)

    # A third: SIGKILL host C's worker while it is inside its shard (claimed, waiting).
    with shards_held(cluster):
        sender = send_ticks(cluster, "b", [t3])
        wait_for(lambda: set(waiting(cluster)) == {b.address, c.address}, what="tick 3's shards on B and C")
        killed = waiting(cluster)[c.address]
        os.killpg(worker_c.pid, signal.SIGKILL)
        worker_c.wait(timeout=20)
    assert sender.wait(timeout=VISIBILITY + 120) == 0, cluster.log("drive")  # the killed worker's shard, redelivered
    assert complete(cluster, t3)
    assert (t3.isoformat(), killed, True) in applied(cluster.log("worker-b"))  # B applied C's shard
    assert not any(instant == t3.isoformat() and ok for instant, _, ok in applied(cluster.log("worker-c")))

    # Beat on B fires the live minute; C's worker is back (a new process on host C).
    worker_c2 = cluster.hems("c", "worker", "worker-c2")
    beat = cluster.hems("b", "beat", "beat-b")
    wait_for(lambda: any(datetime.fromisoformat(i) > minute for i in claims(cluster)), timeout=100, what="beat's tick")
    beat.send_signal(signal.SIGTERM)
    beat.wait(timeout=30)
    assert "Sending due task hems: simulation tick" in cluster.log("beat-b")
    wait_for(lambda: settled(cluster), what="the last messages")  # a tick beat sent as it stopped
    for worker in (worker_b, worker_c2):  # stopped: their logs are complete
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=30)

    # Exactly once, three ways: one claim per shard and tick, one history row per home
    # and tick, and one "applied" per shard and tick across the workers' logs.
    ticks = claims(cluster)
    assert {t1.isoformat(), t2.isoformat(), t3.isoformat()} <= set(ticks) and len(ticks) >= 4
    assert all(shards == list(range(SHARDS)) for shards in ticks.values())
    with cluster.observe() as conn:
        per_tick = conn.execute(
            "SELECT period_end, count(*), count(DISTINCT owner_id) FROM hems_home_energy GROUP BY period_end"
        ).fetchall()
        # When each device was last simulated (hems.simulation.ticked): its row's own
        # instant or, for a row the tick left unchanged, the latest tick over its owner.
        simulated = conn.execute(
            "SELECT DISTINCT GREATEST(s.simulated_at, (SELECT max(t.instant) FROM hems_ticked_owners t "
            "WHERE t.owner_lo <= s.owner_id AND t.owner_hi > s.owner_id)) FROM hems_device_state s"
        ).fetchall()
        written = conn.execute(
            "SELECT DISTINCT t.shard, t.devices, d.n FROM hems_tick_shard t JOIN "
            "(SELECT owner_id / %s AS shard, count(*) AS n FROM hems_device GROUP BY 1) d ON d.shard = t.shard",
            [SHARD_SIZE],
        ).fetchall()
    assert {end.astimezone(UTC).isoformat(): (n, homes) for end, n, homes in per_tick} == {
        instant: (HOMES, HOMES) for instant in ticks
    }
    assert simulated == [(max(datetime.fromisoformat(i) for i in ticks),)]
    assert all(devices == n for _, devices, n in written) and len(written) == SHARDS  # every claim wrote its shard
    # Every connection A's PostgreSQL received came from B's or C's address (or this observer's socket).
    sources = set(re.findall(r"connection received: host=(\S+)", cluster.log("postgres")))
    assert sources == {b.address, c.address, "[local]"}

    by_b = [(i, s) for i, s, ok in applied(cluster.log("worker-b")) if ok]
    by_c = [(i, s) for i, s, ok in applied(cluster.log("worker-c") + cluster.log("worker-c2")) if ok]
    assert by_b and by_c  # both hosts did work
    assert sorted(by_b + by_c) == sorted((i, s) for i, shards in ticks.items() for s in shards)
