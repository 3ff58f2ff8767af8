"""The compose file's broker (deploy/mosquitto/run.sh): Mosquitto in a container of its
own, which hems cannot signal, reloads the password and ACL files by itself when hems
rewrites them, so a device's new credentials work within seconds."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest
from django.db import transaction

from hems.live import broker, credentials
from hems.tests.factories import make_device
from hems.tests.live.mqtt import SERVICE_PASSWORD, Session, free_port
from hems.tests.live.test_ingest import kind_of

ROOT = Path(__file__).resolve().parents[4]
pytestmark = [
    pytest.mark.django_db,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto is not installed"),
]


def test_the_compose_broker_reloads_the_files_hems_rewrites(tmp_path, settings, user):
    port = free_port()
    settings.HEMS_MQTT_PASSWORD_FILE = str(tmp_path / "passwords")
    settings.HEMS_MQTT_ACL_FILE = str(tmp_path / "acl")
    settings.HEMS_MQTT_BROKER_PID_FILE = ""  # as in compose: nothing to signal
    settings.HEMS_MQTT_SERVICE_PASSWORD = SERVICE_PASSWORD
    broker.sync()
    # deploy/mosquitto/mosquitto.conf's settings, on a free port and in the test's folder.
    shipped = (ROOT / "deploy" / "mosquitto" / "mosquitto.conf").read_text()
    config = tmp_path / "mosquitto.conf"
    config.write_text(
        f"user {getpass.getuser()}\n"
        + shipped.replace("listener 1883", f"listener {port} 127.0.0.1").replace("/var/lib/hems/mqtt", str(tmp_path))
    )
    env = {**os.environ, "MOSQUITTO_CONFIG": str(config), "HEMS_MQTT_DIR": str(tmp_path)}
    run = ROOT / "deploy" / "mosquitto" / "run.sh"
    process = subprocess.Popen(["sh", str(run)], env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the broker did not start"
                time.sleep(0.1)
        assert Session(port, "hems-service", SERVICE_PASSWORD).ok
        device = make_device(user, kind_of("production"), source="live")
        with transaction.atomic():
            login = credentials.rotate(device)
        broker.sync()  # what the commit does (this test's transaction is never committed)
        deadline = time.monotonic() + 15
        while not (session := Session(port, login.username, login.password)).ok:
            session.close()
            assert time.monotonic() < deadline, "the new login was not accepted: the broker did not reload"
            time.sleep(0.5)
        session.close()
    finally:
        os.killpg(process.pid, 15)
        process.wait(timeout=10)
