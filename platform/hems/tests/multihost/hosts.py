"""hems over several hosts built by ``netns.Network``: a PostgreSQL cluster and a Redis of
their own on host A (listening on A's address only), and hems's processes on the other
hosts, configured the way an operator configures a worker host: by environment, with
DATABASE_URL and REDIS_URL naming A's address. Used by the multi-host test and by
``bench/multihost.py``.

The observer (the test or the benchmark, outside every host) reads A's database through
the cluster's Unix socket, a path on this machine's file system: no host uses it.
"""

from __future__ import annotations

import glob
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from hems.tests.multihost.netns import Host, Network

ROOT = Path(__file__).resolve().parents[4]
PG_PORT = 5432  # in A's own namespace: no clash with the machine's PostgreSQL
REDIS_PORT = 6379
DATABASE = "hems"
# PostgreSQL runs as its own OS user; what it is given must be readable by it.
PG_USER = "postgres"


def pg_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def unavailable() -> str | None:
    """Why A's services cannot be started here, or None."""
    if pg_bin() is None:
        return "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin"
    if shutil.which("redis-server") is None:
        return "redis-server is not installed"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    return None


def as_postgres(argv: list[str]) -> list[str]:
    return ["setpriv", f"--reuid={PG_USER}", f"--regid={PG_USER}", "--init-groups", *argv]


class Cluster:
    """A, B, C...: the network, A's services, and a directory of working files that is
    removed at the end. ``with Cluster(settings) as cluster: ...``"""

    def __init__(self, names=("a", "b", "c"), *, pg_settings: dict[str, str] | None = None, **env: str):
        self.network = Network(names)
        self.db_host = self.network[names[0]]
        self.work = Path(tempfile.mkdtemp(prefix="hems-multihost-"))
        self.work.chmod(0o755)
        self.logs = self.work / "logs"
        self.logs.mkdir()
        self.socket_dir = self.work / "pgsocket"
        self.redis_socket = self.work / "redis.sock"
        self.pg_settings = pg_settings or {}
        secret = "multihost-" + secrets.token_urlsafe(40)
        # The environment every hems host is given, as an operator's configuration would:
        # nothing from this process's own environment leaks in but the PATH.
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": "/tmp",  # the host's own (private) /tmp
            "TMPDIR": "/tmp",
            "PYTHON": sys.executable,
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": f"postgres://postgres@{self.db_host.address}:{PG_PORT}/{DATABASE}",
            "REDIS_URL": f"redis://{self.db_host.address}:{REDIS_PORT}/0",
            "SECRET_KEY": secret,
            "HEMS_HTTPS": "false",
            "LOG_LEVEL": "INFO",
            **env,
        }

    def __enter__(self) -> Cluster:
        try:
            self.network.__enter__()
            self.start_postgres()
            self.start_redis()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.network.close()
        finally:
            shutil.rmtree(self.work, ignore_errors=True)

    def __getitem__(self, name: str) -> Host:
        return self.network[name]

    # --- host A -------------------------------------------------------------------

    def start_postgres(self) -> None:
        data = self.work / "pgdata"
        for folder in (data, self.socket_dir):
            folder.mkdir()
            shutil.chown(folder, PG_USER, PG_USER)
        subprocess.run(
            as_postgres([str(pg_bin() / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                         "--no-sync", "--no-locale", "-E", "UTF8"]),
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        with open(data / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {self.db_host.address.rsplit('.', 1)[0]}.0/24 trust\n")
        options = {
            "listen_addresses": self.db_host.address,  # A's address only
            "port": str(PG_PORT),
            "unix_socket_directories": str(self.socket_dir),
            "max_connections": "100",
            "fsync": "off",  # a throwaway cluster: no crash to survive
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "64MB",
            **self.pg_settings,
        }
        argv = [str(pg_bin() / "postgres"), "-D", str(data)]
        for name, value in options.items():
            argv += ["-c", f"{name}={value}"]
        self.db_host.popen(as_postgres(argv), self.env, self.logs / "postgres.log", private_tmp=False)
        deadline = time.monotonic() + 60
        while True:
            try:
                with self.observe("postgres") as conn:
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
                return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError("PostgreSQL on host A did not start:\n" + self.log("postgres")) from exc
                time.sleep(0.3)

    def start_redis(self) -> None:
        self.db_host.popen(
            ["redis-server", "--bind", self.db_host.address, "--port", str(REDIS_PORT), "--save", "",
             "--appendonly", "no", "--protected-mode", "no", "--unixsocket", str(self.redis_socket)],
            self.env, self.logs / "redis.log", private_tmp=False,
        )  # fmt: skip

    def observe(self, dbname: str = DATABASE) -> psycopg.Connection:
        """A connection to A's database from outside every host (its Unix socket)."""
        return psycopg.connect(host=str(self.socket_dir), port=PG_PORT, user="postgres", dbname=dbname, autocommit=True)

    def observe_redis(self):
        """A client of A's Redis from outside every host (its Unix socket)."""
        import redis

        return redis.Redis(unix_socket_path=str(self.redis_socket))

    # --- hems on a host -------------------------------------------------------------

    def manage(self, host: str, *args: str, timeout: float = 300) -> str:
        """``manage.py`` on a host, to its end."""
        return self.network[host].run([sys.executable, "manage.py", *args], self.env, timeout=timeout, cwd=ROOT)

    def hems(self, host: str, role: str, log: str, **env: str) -> subprocess.Popen:
        """``bin/hems <role>`` on a host, as an operator starts it there."""
        return self.network[host].popen(
            [str(ROOT / "bin" / "hems"), role], {**self.env, **env}, self.logs / f"{log}.log", cwd=ROOT
        )

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""
