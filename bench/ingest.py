#!/usr/bin/env python
"""What one ingest process (``manage.py ingest``) sustains; prints figures for BENCHMARKS.md.

    .venv/bin/python bench/ingest.py                          # 500,000 live devices, 8,300 msg/s, then flat out
    .venv/bin/python bench/ingest.py --devices 50000 --duration 20

It recreates the database ``hems_bench_ingest`` (on the server of DATABASE_URL), seeds
the devices (``manage.py seed``, 50 a home), switches them all to live and issues their
credentials, starts a Mosquitto of its own (hems's password and ACL files, with an
emulator login allowed to publish for every device) and one ingest process, then
publishes hems JSON reports, QoS 1, each device in turn (a raw publisher in this
process: one connection as the emulator login, the trade-off docs/live-devices.md
describes). Two runs: paced at ``--rate`` (the target: 500,000 devices once a minute is
8,333 a second), and as fast as the publisher goes. For each it measures, after a
warm-up, the reports the ingest stored a second, its CPU (user + system, from /proc, in
% of one core) and how far it fell behind (published, not yet stored, at the end).
Everything shares this machine's cores: the publisher, Mosquitto and PostgreSQL too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "hems_bench_ingest"
EMULATOR_PASSWORD = "bench-emulator-password"
INGEST_PASSWORD = "bench-ingest-password"
TICKS = os.sysconf("SC_CLK_TCK")


def database_url(name: str) -> str:
    url = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hems"))
    return urlunparse(url._replace(path=f"/{name}"))


def recreate(name: str) -> None:
    import psycopg

    with psycopg.connect(database_url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def manage(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def publish(port: int, topics: list[str], templates: list[str], rate: float | None, seconds: float, acked) -> None:
    """One MQTT connection (the emulator's login) publishing each of its devices' reports
    in turn, QoS 1: at ``rate`` a second (bursts every 10 ms) or, with ``None``, as fast
    as the broker acknowledges. ``acked`` counts the broker's acknowledgements."""
    import paho.mqtt.client as mqtt

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-publisher-{os.getpid()}")
    client.username_pw_set("hems-emulator", EMULATOR_PASSWORD)
    client.max_inflight_messages_set(100)  # paho's cost per acknowledgement grows with the window
    client.max_queued_messages_set(0)
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()

    def on_publish(*a):
        with acked.get_lock():
            acked.value += 1

    client.on_publish = on_publish
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert connected.wait(10), "the publisher could not connect"
    started = time.monotonic()
    sent = 0
    info = None
    while time.monotonic() - started < seconds:
        if rate is None:
            due = 200
        else:
            due = int((time.monotonic() - started) * rate) - sent
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"
        for _ in range(max(due, 0)):
            i = sent % len(topics)
            info = client.publish(topics[i], templates[i] % stamp, qos=1)
            sent += 1
        if rate is None:
            info.wait_for_publish(30)
        else:
            time.sleep(0.01)
    client.disconnect()
    client.loop_stop()


def measure(ingest, status_file: Path, port, topics, templates, rate, processes, warmup, duration) -> dict:
    """Publish from ``processes`` processes (each its share of the devices) for warm-up
    plus duration; figures over the duration only."""
    import multiprocessing

    def status():
        return json.loads(status_file.read_text())

    context = multiprocessing.get_context("fork")
    acked = context.Value("q", 0)
    start_done = status()
    workers = [
        context.Process(
            target=publish,
            args=(
                port,
                topics[k::processes],
                templates[k::processes],
                rate and rate / processes,
                warmup + duration,
                acked,
            ),
        )  # fmt: skip
        for k in range(processes)
    ]
    for w in workers:
        w.start()
    time.sleep(warmup)
    s0, c0, t0, p0 = status(), cpu_seconds(ingest.pid), time.monotonic(), acked.value
    time.sleep(duration)
    s1, c1, t1, p1 = status(), cpu_seconds(ingest.pid), time.monotonic(), acked.value
    for w in workers:
        w.join()
    elapsed = t1 - t0
    done = s1["accepted"] + sum(s1["refused"].values()) - start_done["accepted"] - sum(start_done["refused"].values())
    return {
        "offered": (p1 - p0) / elapsed,
        "stored": (s1["accepted"] - s0["accepted"]) / elapsed,
        "cpu": 100 * (c1 - c0) / elapsed,
        "behind": p1 - done,
        "refused": s1["refused"],
        "batch": (s1["accepted"] - s0["accepted"]) / max(1, s1["batches"] - s0["batches"]),
        "phases": {k: round(s1["seconds"].get(k, 0) - s0["seconds"].get(k, 0), 2) for k in s1["seconds"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=500_000)
    parser.add_argument("--rate", type=float, default=8_333.0)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--publishers", type=int, default=2, help="publishing processes")
    parser.add_argument("--reuse", action="store_true", help="the database of the previous run, as it is")
    args = parser.parse_args()
    if shutil.which("mosquitto") is None:
        sys.exit("mosquitto is not installed")

    folder = Path(tempfile.mkdtemp(prefix="hems-bench-ingest-"))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(DATABASE),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "HEMS_REDIS_PREFIX": "hems-bench-ingest",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        "HEMS_MQTT_HOST": "127.0.0.1",
        "HEMS_MQTT_PORT": str(port),
        "HEMS_MQTT_PASSWORD_FILE": str(folder / "passwords"),
        "HEMS_MQTT_ACL_FILE": str(folder / "acl"),
        "HEMS_MQTT_INGEST_PASSWORD": INGEST_PASSWORD,
        "HEMS_MQTT_EMULATOR_PASSWORD": EMULATOR_PASSWORD,
        "HEMS_INGEST_RATE_PER_MINUTE": "120",  # flat out, a device reports more than once a minute
        "HEMS_DEMO": "0",
        "DEBUG": os.environ.get("DEBUG", "1"),  # a benchmark on this machine: no deployment keys
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    os.environ.update({k: v for k, v in env.items() if k != "DJANGO_SETTINGS_MODULE"})
    os.environ["DJANGO_SETTINGS_MODULE"] = "hems.settings"
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

    began = time.monotonic()
    if not args.reuse:
        recreate(DATABASE)
        manage("migrate", "--no-input", "-v", "0", env=env)
        homes = -(-args.devices // 50)
        manage("seed", "--homes", str(homes), "--devices-per-home", "50", "--prefix", "bench", "-v", "0", env=env)

    import django

    django.setup()
    from django.db import transaction

    from hems.devices.models import Device, DeviceCredentials
    from hems.live import broker, topics
    from hems.live.credentials import issue_many
    from hems.live.emulator import switch_to_live

    devices = list(Device.objects.order_by("pk").values_list("pk", "device_type")[: args.devices])
    ids = [pk for pk, _ in devices]
    if args.reuse:  # the emulator's login publishes for them all: the devices' passwords are not needed
        logins = {pk: (name, "") for pk, name in DeviceCredentials.objects.values_list("device_id", "username")}
    else:
        logins = {}
        for start in range(0, len(ids), 50_000):
            with transaction.atomic():
                switch_to_live(ids[start : start + 50_000])
                logins |= issue_many(ids[start : start + 50_000])
    broker.sync()
    print(f"set up {len(ids):,} live devices in {time.monotonic() - began:.0f} s", flush=True)

    config = folder / "mosquitto.conf"
    config.write_text(
        f"user {os.environ.get('USER') or 'root'}\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
        f"persistence false\npassword_file {folder / 'passwords'}\nacl_file {folder / 'acl'}\n"
        "max_queued_messages 1000000\nmax_inflight_messages 0\n"
    )
    mosquitto = subprocess.Popen(["mosquitto", "-c", str(config)], stderr=subprocess.DEVNULL)
    status_file = folder / "status.json"
    time.sleep(1.0)
    with open(folder / "ingest.log", "w") as log:
        ingest = subprocess.Popen(
            [sys.executable, "manage.py", "ingest", "--client-id", "bench-ingest", "--status-file", str(status_file)],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        while not (status_file.exists() and json.loads(status_file.read_text()).get("connected")):
            time.sleep(0.2)
        names = [topics.topic(logins[i][0], topics.STATE) for i in ids]
        # 20 W, and for storage a flow of 0 W: valid for every kind.
        bodies = ['{"time":"%s","powerW":20,"flowW":0}' if k == "storage" else '{"time":"%s","powerW":20}'
                  for _, k in devices]  # fmt: skip
        run = (ingest, status_file, port, names, bodies)
        results = {
            f"paced {args.rate:,.0f}/s": measure(*run, args.rate, args.publishers, args.warmup, args.duration),
            "flat out": measure(*run, None, args.publishers, args.warmup, args.duration),
        }
    finally:
        ingest.terminate()
        ingest.wait(30)
        mosquitto.terminate()

    from django.conf import settings

    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{len(ids):,} live devices; ingest batches of up to {settings.HEMS_INGEST_BATCH_SIZE} reports "
          f"or {settings.HEMS_INGEST_BATCH_SECONDS} s")  # fmt: skip
    print(
        "| run | published (msg/s, acknowledged by the broker) | stored (msg/s) | ingest CPU (% of a core) "
        "| reports per batch | behind at end | refused | seconds in prepare, write, ack |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['offered']:,.0f} | {r['stored']:,.0f} | {r['cpu']:.0f} | {r['batch']:,.0f} | "
              f"{r['behind']:,} | {r['refused'] or 'none'} | {r['phases']} |")  # fmt: skip


if __name__ == "__main__":
    main()
