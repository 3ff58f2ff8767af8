"""PostgreSQL restarted under a running hems (gunicorn through bin/hems web): while it
is down every request gets a clean INTERNAL error; once it is back requests succeed
again, without restarting hems. The cluster is a private one started for this test
(never the machine's shared server)."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from hems.plugins import registry
from hems.tests.test_entrypoint import ENTRY, free_port, wait_until_up

pytestmark = pytest.mark.slow

PG_BIN = Path(os.environ.get("HEMS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
USER, PASSWORD = "pgdemo", "pg-demo-password-1"
DEMO_DEVICES = sum(1 for kind in registry().kinds.values() if kind.example)  # one demo device per installed kind


class Cluster:
    """A throwaway PostgreSQL cluster on a free port, run as the postgres user when we are root."""

    def __init__(self, root: Path):
        self.root, self.port = root, free_port()
        self.data = root / "data"

    def run(self, *args: str) -> None:
        as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_owner, *args], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.root / "log")
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start")

    def stop(self) -> None:
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/hems"


@pytest.fixture
def cluster():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"no initdb in {PG_BIN} (set HEMS_TEST_PG_BIN) to run a private PostgreSQL")
    if os.geteuid() == 0 and not shutil.which("runuser"):
        pytest.skip("running as root without runuser: initdb refuses to run as root")
    root = Path(tempfile.mkdtemp(prefix="hems-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    server = Cluster(root)
    try:
        server.init()
        server.start()
        with psycopg.connect(f"host=127.0.0.1 port={server.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute("CREATE DATABASE hems")
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(root, ignore_errors=True)


def post(url: str, query: str, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, json.dumps({"query": query}).encode(), headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_requests_fail_cleanly_while_postgresql_is_down_and_recover_without_restarting_hems(cluster, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": cluster.url,
        "STATIC_ROOT": str(tmp_path / "static"),
        "DEMO_USERNAME": USER,
        "DEMO_PASSWORD": PASSWORD,
        "DEBUG": "false",
        "HEMS_HTTPS": "false",  # plain HTTP on loopback, no TLS proxy in front
        "SECRET_KEY": secrets.token_urlsafe(50),
        "HEMS_REDIS_PREFIX": settings.HEMS_REDIS_PREFIX,
        "HEMS_BIND": f"127.0.0.1:{free_port()}",
        "WEB_CONCURRENCY": "1",  # one process, one persistent connection: the one that must recover
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    migrate = subprocess.run([str(ENTRY), "migrate"], env=env, capture_output=True, text=True, timeout=300)
    assert migrate.returncode == 0, migrate.stderr[-3000:]
    log = open(tmp_path / "web.log", "w")
    web = subprocess.Popen([str(ENTRY), "web"], env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://{env['HEMS_BIND']}/graphql/"
    login = f'mutation {{ loginUser(username: "{USER}", password: "{PASSWORD}") {{ token }} }}'
    query = "{ allDevices { id } energyStats { netGridFlow } }"
    try:
        wait_until_up(f"http://{env['HEMS_BIND']}/healthz", web)
        token = post(url, login)[1]["data"]["loginUser"]["token"]
        status, body = post(url, query, token)
        assert status == 200 and "errors" not in body and len(body["data"]["allDevices"]) == DEMO_DEVICES, body

        cluster.stop()
        for attempt in (query, login):
            status, body = post(url, attempt, token)
            assert status in (200, 500) and body.get("data") in (None, {"loginUser": None}), body
            assert [e["extensions"]["code"] for e in body["errors"]] == ["INTERNAL"], body
            assert body["errors"][0]["message"] == "Internal server error."  # no details leak
        assert post(url, query, token)[0] == 500  # the caller cannot even be authenticated

        cluster.start()
        status, body = post(url, query, token)  # the very first request after the restart
        assert status == 200 and "errors" not in body, body
        assert len(body["data"]["allDevices"]) == DEMO_DEVICES

        # Restarted again with no request in between: the kept connection is stale and
        # only the health check at the request's start notices.
        cluster.stop()
        cluster.start()
        status, body = post(url, query, token)
        assert status == 200 and "errors" not in body, body
        assert web.poll() is None  # the same server throughout
    finally:
        web.terminate()
        web.wait(timeout=30)
        log.close()
        print((tmp_path / "web.log").read_text()[-3000:])
