#!/usr/bin/env python
"""Load test: many logged-in users reading energyStats and allDevices from gunicorn on
loopback while ticks run; prints figures for BENCHMARKS.md.

    .venv/bin/python bench/load.py                           # 1,000 homes x 20 devices, 200 users, 60 s
    .venv/bin/python bench/load.py --homes 200 --users 50 --duration 20

It recreates the database ``hems_load`` (on the server of DATABASE_URL), seeds the
homes (``manage.py seed``), runs a first tick, signs one access token per user, then
starts ``bin/hems web`` (gunicorn) and, for ``--duration`` seconds, runs at once:
  - locust (headless, in a subprocess running this same file as its locustfile): each
    simulated user is one home, asking energyStats or allDevices in turn;
  - a tick every ``--tick-every`` seconds through ``manage.py simulate --at``, each at
    the next minute (simulated time runs faster than the wall clock, so that a minute
    of load sees several ticks).
It prints throughput, p50 and p99 per operation, the errors, and how old the stats
returned were: the tick instant they carry against the latest tick committed when the
request was sent (in ticks; more than two is stale).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
FIRST = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)  # a Monday noon in Europe
STATS = "{ energyStats { netGridFlow currentProduction currentStorage { percentage } timestamp } }"
DEVICES = (
    "{ allDevices { id name kind status powerW lastSimulatedAt "
    "... on StorageDevice { capacityWh levelWh percentage mode flowW } } }"
)


# ---- the locustfile (this module, imported by locust in its own process) ------------

if "locust" in sys.modules or os.environ.get("HEMS_LOAD_ROLE") == "locust":
    import random

    from locust import FastHttpUser, events, task
    from locust.exception import StopUser

    TOKENS = json.loads(Path(os.environ["HEMS_LOAD_TOKENS"]).read_text())
    TICKS = Path(os.environ["HEMS_LOAD_TICKS"])  # the latest committed tick's instant (epoch s)
    AGES: list[float] = []
    STALE = [0]
    _latest = [0.0, 0.0]  # mtime, instant

    def latest_tick() -> float:
        mtime = TICKS.stat().st_mtime
        if mtime != _latest[0]:
            _latest[:] = [mtime, float(TICKS.read_text() or 0)]
        return _latest[1]

    class Home(FastHttpUser):
        """One logged-in home: energyStats three times as often as allDevices."""

        wait_time = staticmethod(lambda: random.uniform(0.2, 0.8))

        def on_start(self):
            if not TOKENS:
                raise StopUser()
            # As a TLS-terminating proxy in front of gunicorn would forward it.
            self.headers = {
                "Authorization": f"Bearer {TOKENS.pop()}",
                "Content-Type": "application/json",
                "X-Forwarded-Proto": "https",
            }

        def ask(self, name: str, query: str) -> dict | None:
            with self.client.post(
                "/graphql/", data=json.dumps({"query": query}), headers=self.headers, name=name, catch_response=True
            ) as response:
                body = response.json() if response.status_code == 200 else None
                if body is None or body.get("errors"):
                    response.failure(f"{response.status_code}: {(body or {}).get('errors') or response.text[:200]}")
                    return None
                return body["data"]

        @task(3)
        def energy_stats(self):
            sent_after = latest_tick()
            data = self.ask("energyStats", STATS)
            if data:
                age = (sent_after - datetime.fromisoformat(data["energyStats"]["timestamp"]).timestamp()) / 60.0
                AGES.append(age)
                STALE[0] += age > 2

        @task(1)
        def all_devices(self):
            self.ask("allDevices", DEVICES)

    @events.quitting.add_listener
    def _report(environment, **kwargs):
        Path(os.environ["HEMS_LOAD_AGES"]).write_text(
            json.dumps({"max_age_ticks": max(AGES, default=None), "stale": STALE[0], "checked": len(AGES)})
        )


# ---- the orchestrator ---------------------------------------------------------------


def database_url(name: str) -> str:
    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hems"))
    return urlunparse(url._replace(path=f"/{name}"))


def recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def sign_tokens(env: dict, count: int) -> list[str]:
    """One access token per seeded user, signed as the server will check them (logging
    each in through the API would spend minutes hashing passwords)."""
    script = (
        "import json, django; django.setup()\n"
        "from django.contrib.auth import get_user_model\n"
        "from graphql_jwt.shortcuts import get_token\n"
        f"users = get_user_model().objects.filter(is_superuser=False).order_by('?')[:{count}]\n"
        "print(json.dumps([get_token(u) for u in users]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"signing tokens failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_until_up(url: str, process: subprocess.Popen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("the web server exited")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    sys.exit("the web server did not come up")


class Ticker(threading.Thread):
    """A tick every ``every`` seconds, each at the next minute, through manage.py simulate."""

    def __init__(self, env: dict, every: float, ticks_file: Path, first: datetime):
        super().__init__(daemon=True)
        self.env, self.every, self.file, self.instant = env, every, ticks_file, first
        self.stop = threading.Event()
        self.durations: list[float] = []

    def run(self):
        due = time.monotonic()
        while True:
            due += self.every  # a fixed cadence, as beat's; a slow tick delays the next one
            if self.stop.wait(max(0.0, due - time.monotonic())):
                return
            instant = self.instant + timedelta(minutes=1)
            started = time.perf_counter()
            manage(self.env, "simulate", "--at", instant.isoformat())
            self.durations.append(time.perf_counter() - started)
            self.instant = instant
            self.file.write_text(str(instant.timestamp()))  # committed: requests sent from now on must see it


def percentile_row(row: dict) -> tuple[float, float]:
    return float(row["50%"]), float(row["99%"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--homes", type=int, default=1000)
    parser.add_argument("--devices-per-home", type=int, default=20)
    parser.add_argument("--users", type=int, default=200, help="logged-in users at once (one home each)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load")
    parser.add_argument("--tick-every", type=float, default=10.0, help="seconds between ticks")
    parser.add_argument("--web-workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--database", default="hems_load")
    args = parser.parse_args()
    if args.users > args.homes:
        parser.error("--users must not exceed --homes (one home per user)")

    work = Path(os.environ.get("TMPDIR", "/tmp")) / f"hems-load-{os.getpid()}"
    work.mkdir(parents=True)
    secret = secrets.token_urlsafe(50)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(args.database),
        "SECRET_KEY": secret,
        "JWT_SECRET_KEY": secret,
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "HEMS_REDIS_PREFIX": f"hems-load-{os.getpid()}:",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "hems.settings",
        "STATIC_ROOT": str(work / "static"),
    }
    print(f"seeding {args.homes} homes x {args.devices_per_home} devices in {args.database} ...", flush=True)
    recreate(args.database)
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "seed", "--homes", str(args.homes), "--devices-per-home", str(args.devices_per_home))
    manage(env, "simulate", "--at", FIRST.isoformat())  # every home's stats cached once
    tokens = sign_tokens(env, args.users)
    (work / "tokens.json").write_text(json.dumps(tokens))
    ticks_file = work / "tick"
    ticks_file.write_text(str(FIRST.timestamp()))

    bind = f"127.0.0.1:{free_port()}"
    web_log = open(work / "web.log", "w")
    web = subprocess.Popen(
        [str(ROOT / "bin" / "hems"), "web"], cwd=ROOT, stdout=web_log, stderr=subprocess.STDOUT,
        env={**env, "HEMS_BIND": bind, "WEB_CONCURRENCY": str(args.web_workers), "PYTHON": sys.executable},
    )  # fmt: skip
    ticker = Ticker(env, args.tick_every, ticks_file, FIRST)
    try:
        wait_until_up(f"http://{bind}/healthz", web)
        print(f"load: {args.users} users for {args.duration} s against gunicorn ({args.web_workers} workers) ...")
        ticker.start()
        locust_env = {
            **env,
            "HEMS_LOAD_ROLE": "locust",
            "HEMS_LOAD_TOKENS": str(work / "tokens.json"),
            "HEMS_LOAD_TICKS": str(ticks_file),
            "HEMS_LOAD_AGES": str(work / "ages.json"),
        }
        run = subprocess.run(
            [sys.executable, "-m", "locust", "-f", __file__, "--headless", "--host", f"http://{bind}",
             "-u", str(args.users), "-r", str(max(1, args.users // 5)), "-t", f"{args.duration}s",
             "--csv", str(work / "locust"), "--only-summary", "--loglevel", "WARNING"],
            cwd=ROOT, env=locust_env, capture_output=True, text=True, timeout=args.duration + 300,
        )  # fmt: skip
    finally:
        ticker.stop.set()
        ticker.join(timeout=120)
        web.terminate()
        web.wait(timeout=30)
        web_log.close()
    if not (work / "locust_stats.csv").exists():
        sys.exit(f"locust failed:\n{run.stderr[-3000:]}")

    rows = {row["Name"]: row for row in csv.DictReader(open(work / "locust_stats.csv"))}
    ages = json.loads((work / "ages.json").read_text())
    print()
    print(f"{args.homes} homes x {args.devices_per_home} devices, {args.users} users, {args.duration} s, "
          f"gunicorn {args.web_workers} sync workers, a tick every {args.tick_every:g} s")  # fmt: skip
    print(f"{'operation':<12} {'requests':>9} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>7}")
    for name in ("energyStats", "allDevices", "Aggregated"):
        row = rows[name]
        p50, p99 = percentile_row(row)
        print(f"{name:<12} {int(row['Request Count']):>9} {float(row['Requests/s']):>8.1f} {p50:>7.0f} {p99:>7.0f} "
              f"{int(row['Failure Count']):>7}")  # fmt: skip
    ticks = ticker.durations
    print(f"ticks during the load: {len(ticks)}, each (manage.py simulate, process start included) "
          f"{min(ticks, default=0):.1f} to {max(ticks, default=0):.1f} s")  # fmt: skip
    print(f"energyStats ages checked: {ages['checked']}, oldest {ages['max_age_ticks']} tick(s) behind the latest "
          f"committed tick, older than two ticks: {ages['stale']}")  # fmt: skip
    failures = work / "locust_failures.csv"
    errors = list(csv.DictReader(open(failures))) if failures.exists() else []
    for row in errors[:5]:
        print(f"  error: {row['Name']} x{row['Occurrences']}: {row['Error'][:200]}")
    ok = not errors and ages["stale"] == 0 and ages["checked"] > 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
