"""Real processes for the ingest's tests: a Mosquitto of the test's own (restartable on
the same port), the ingest (``manage.py ingest``) against the test database, and a TCP
relay in front of PostgreSQL that a test can cut to make the database unreachable."""

from __future__ import annotations

import getpass
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings

from hems.live import broker
from hems.tests.live.mqtt import SERVICE_PASSWORD, free_port
from hems.tests.workers import ROOT, database_url, wait_for

INGEST_PASSWORD = "ingest-" + SERVICE_PASSWORD


class Broker:
    """Mosquitto on a free port with hems's password and ACL files; stop and start again
    on the same port (its sessions are in memory: a restart loses them)."""

    def __init__(self, folder: Path, settings_fixture):
        self.folder = folder
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        s = settings_fixture
        s.HEMS_MQTT_PASSWORD_FILE = str(folder / "passwords")
        s.HEMS_MQTT_ACL_FILE = str(folder / "acl")
        s.HEMS_MQTT_BROKER_PID_FILE = str(folder / "pid")
        s.HEMS_MQTT_SERVICE_PASSWORD = SERVICE_PASSWORD
        s.HEMS_MQTT_INGEST_PASSWORD = INGEST_PASSWORD
        s.HEMS_MQTT_PUBLIC_PORT = s.HEMS_MQTT_PORT = self.port
        s.HEMS_MQTT_HOST = "127.0.0.1"
        broker.sync()
        self.config = folder / "mosquitto.conf"
        self.config.write_text(
            f"user {getpass.getuser()}\nlistener {self.port} 127.0.0.1\nallow_anonymous false\npersistence false\n"
            f"password_file {s.HEMS_MQTT_PASSWORD_FILE}\nacl_file {s.HEMS_MQTT_ACL_FILE}\n"
            # The ingest holds up to its buffer unacknowledged; the broker queues beyond it.
            "max_queued_messages 200000\nmax_inflight_messages 0\n"
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["mosquitto", "-c", str(self.config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        (self.folder / "pid").write_text(str(self.process.pid))
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"mosquitto did not start: {self.process.stderr.read().decode()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class Ingest:
    """``manage.py ingest`` in a session of its own, reporting its counters in a file."""

    def __init__(self, folder: Path, broker_port: int, database: str | None = None, **env: str):
        self.folder, self.broker_port = folder, broker_port
        self.database = database or database_url()
        self.status_file = folder / "ingest-status.json"
        self.log = folder / "ingest.log"
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> Ingest:
        self.status_file.unlink(missing_ok=True)
        env = {
            **os.environ,
            "DATABASE_URL": self.database,
            "HEMS_REDIS_PREFIX": settings.HEMS_REDIS_PREFIX,
            "HEMS_MQTT_HOST": "127.0.0.1",
            "HEMS_MQTT_PORT": str(self.broker_port),
            "HEMS_MQTT_INGEST_PASSWORD": INGEST_PASSWORD,
            "HEMS_MQTT_SERVICE_PASSWORD": SERVICE_PASSWORD,
            "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
            **self.env,
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        with open(self.log, "a") as log:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", "ingest", "--client-id", "hems-ingest-test",
                 "--status-file", str(self.status_file)],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        self.wait(lambda s: s.get("connected"), "the ingest to connect")
        return self

    def status(self) -> dict:
        try:
            return json.loads(self.status_file.read_text())
        except (OSError, ValueError):
            return {}

    def wait(self, condition, what: str, timeout: float = 60.0) -> dict:
        def check():
            if self.process.poll() is not None:
                raise AssertionError(f"the ingest exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            return condition(self.status())

        wait_for(check, timeout=timeout, what=what)
        return self.status()

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Relay:
    """A TCP relay to PostgreSQL: ``cut()`` closes every connection and refuses new ones
    (the database is unreachable), ``mend()`` accepts again."""

    def __init__(self, target_port: int):
        self.target = target_port
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        self.open = True
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        self.open = False
        with self.lock:
            for s in self.sockets:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.sockets.clear()

    def mend(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.server.close()

    def database_url(self) -> str:
        db = settings.DATABASES["default"]
        password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
        return f"postgres://{db['USER']}{password}@127.0.0.1:{self.port}/{db['NAME']}"
