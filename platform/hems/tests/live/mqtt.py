"""A Mosquitto of the test's own and MQTT sessions that wait for the broker's answers."""

from __future__ import annotations

import getpass
import queue
import shutil
import socket
import subprocess
import time
import uuid

import paho.mqtt.client as mqtt
import pytest

from hems.live import broker, topics

needs_mosquitto = pytest.mark.skipif(shutil.which("mosquitto") is None, reason="mosquitto is not installed")

SERVICE_PASSWORD = "service-" + uuid.uuid4().hex


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def mosquitto(tmp_path, settings):
    """A broker of our own on a free port, reading the files hems writes."""
    port = free_port()
    settings.HEMS_MQTT_PASSWORD_FILE = str(tmp_path / "passwords")
    settings.HEMS_MQTT_ACL_FILE = str(tmp_path / "acl")
    settings.HEMS_MQTT_BROKER_PID_FILE = str(tmp_path / "pid")
    settings.HEMS_MQTT_SERVICE_PASSWORD = SERVICE_PASSWORD
    settings.HEMS_MQTT_PUBLIC_PORT = settings.HEMS_MQTT_PORT = port
    settings.HEMS_MQTT_HOST = "127.0.0.1"
    broker.sync()  # the service login only, before the broker starts
    config = tmp_path / "mosquitto.conf"
    # Run as whoever runs the tests (as root, mosquitto would otherwise switch to its own
    # user, who cannot read files in the test's folder).
    config.write_text(
        f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous false\npersistence false\n"
        f"password_file {settings.HEMS_MQTT_PASSWORD_FILE}\nacl_file {settings.HEMS_MQTT_ACL_FILE}\n"
    )
    process = subprocess.Popen(["mosquitto", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    (tmp_path / "pid").write_text(str(process.pid))
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"mosquitto did not start: {process.stderr.read().decode()}") from None
            time.sleep(0.05)
    yield port
    process.terminate()
    process.wait(timeout=10)


class Session:
    """One MQTT connection: waits for the broker's answers instead of guessing delays."""

    def __init__(self, port, username, password):
        self.connected: queue.Queue = queue.Queue()
        self.subscribed: queue.Queue = queue.Queue()
        self.messages: queue.Queue = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=uuid.uuid4().hex)
        self.client.username_pw_set(username, password)
        self.client.on_connect = lambda c, u, flags, rc, props: self.connected.put(rc)
        self.client.on_subscribe = lambda c, u, mid, rcs, props: self.subscribed.put(rcs)
        self.client.on_message = lambda c, u, msg: self.messages.put((msg.topic, msg.payload))
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        self.code = self.connected.get(timeout=10)

    @property
    def ok(self) -> bool:
        return not self.code.is_failure

    def subscribe(self, topic):
        self.client.subscribe(topic, qos=1)
        return self.subscribed.get(timeout=10)[0]

    def publish(self, topic, payload):
        self.client.publish(topic, payload, qos=1).wait_for_publish(timeout=10)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def login(port, username, password, attempts=50) -> Session:
    """Connect; after a rotation the broker reloads on SIGHUP asynchronously, so a refused
    login is retried briefly before it counts as refused."""
    for _ in range(attempts):
        session = Session(port, username, password)
        if session.ok:
            return session
        session.close()
        time.sleep(0.05)
    return session


@pytest.fixture
def service(mosquitto):
    session = login(mosquitto, "hems-service", SERVICE_PASSWORD)
    assert session.ok
    assert not session.subscribe(topics.subscription(topics.STATE)).is_failure
    yield session
    session.close()


def received(session: Session, marker_topic: str) -> list:
    """Everything the session saw up to a marker published after the messages under test
    (one broker, one publishing connection: the marker arrives last)."""
    seen = []
    while True:
        topic, payload = session.messages.get(timeout=10)
        if topic == marker_topic and payload == b"marker":
            return seen
        seen.append((topic, payload))
