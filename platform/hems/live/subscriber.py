"""The ingest's receive step: one MQTT connection (paho-mqtt 2, MQTT 5) subscribed with
QoS 1 to every device's report topics, handing messages to a queue.

- A persistent session (a fixed client id, clean start off, a session expiry): while the
  ingest is down or restarting, the broker keeps what arrives for it.
- Acknowledged by hand, after the batch that holds a message is committed (or dropped),
  so a message the process dies holding is delivered again (the write's replay rule
  makes a second application a no-op).
- paho's network thread reconnects by itself; every (re)connection subscribes again, so
  a broker that restarted without the session gets the subscriptions back.
"""

from __future__ import annotations

import logging
import queue
import threading
import uuid

import paho.mqtt.client as mqtt
from django.conf import settings
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hems.live import topics
from hems.live.pipeline import Message

logger = logging.getLogger("hems.live.ingest")

SESSION_EXPIRY_SECONDS = 24 * 3600


def report_topics() -> list[str]:
    """Every device's topics that carry reports, ``state`` and the installed kinds'
    vendor formats' topics (``hems/v1/+/tele/SENSOR``), availability, ``availability``
    and the vendors' (``hems/v1/+/tele/LWT``), and the vendors' fields' values
    (``hems/v1/+/stat/POWER``)."""
    from hems.plugins import registry
    from hems.sdk.live import availability_topics, codecs_of

    kinds = registry().kinds.values()
    channels = {codec.topic for kind in kinds for codec in codecs_of(kind)}
    channels |= {channel for kind in kinds for channel in availability_topics(kind)}
    channels |= {codec.fields_topic for kind in kinds for codec in kind.codecs if codec.fields_topic}
    return [f"{topics.prefix()}/+/{channel}" for channel in sorted(channels)]


def login() -> tuple[str, str]:
    """The ingest's own broker login (read only), or hems's service login without one."""
    if settings.HEMS_MQTT_INGEST_PASSWORD:
        return settings.HEMS_MQTT_INGEST_USERNAME, settings.HEMS_MQTT_INGEST_PASSWORD
    return settings.HEMS_MQTT_SERVICE_USERNAME, settings.HEMS_MQTT_SERVICE_PASSWORD


class Subscriber:
    def __init__(self, client_id: str | None = None, share: str = "", receive_maximum: int = 65535,
                 host: str | None = None, port: int | None = None):  # fmt: skip
        self.messages: queue.Queue[Message] = queue.Queue()
        self.generation = 0  # bumped on every connection: an ack is only sent on the one it came on
        self.received = 0
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.host = host or settings.HEMS_MQTT_HOST
        self.port = port or settings.HEMS_MQTT_PORT
        self.topics = [f"$share/{share}/{topic}" if share else topic for topic in report_topics()]
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=client_id or f"hems-ingest-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
            manual_ack=True,
        )
        username, password = login()
        if password:
            self.client.username_pw_set(username, password)
        self.client.reconnect_delay_set(min_delay=1, max_delay=5)
        self.client.on_connect = self.on_connect
        self.client.on_disconnect = self.on_disconnect
        self.client.on_subscribe = self.on_subscribe
        self.client.on_message = self.on_message
        self.properties = Properties(PacketTypes.CONNECT)
        self.properties.SessionExpiryInterval = SESSION_EXPIRY_SECONDS
        self.properties.ReceiveMaximum = max(1, min(int(receive_maximum), 65535))

    def start(self) -> None:
        """Connect in the background (a broker not up yet is retried) and keep connected."""
        self.client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=self.properties)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            logger.error("ingest: the broker refused the connection: %s", reason_code)
            return
        self.generation += 1
        logger.info("ingest: connected to %s:%d (session present: %s); subscribing to %s",
                    self.host, self.port, flags.session_present, ", ".join(self.topics))  # fmt: skip
        client.subscribe([(topic, 1) for topic in self.topics])
        self.connected.set()

    def on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        refused = [code for code in reason_codes if code.is_failure]
        if refused:
            logger.error("ingest: the broker refused a subscription: %s", refused)
        else:
            self.subscribed.set()

    def on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self.subscribed.clear()
        logger.warning("ingest: disconnected from the broker (%s); reconnecting", reason_code)

    def on_message(self, client, userdata, message) -> None:
        self.received += 1
        self.messages.put(Message(message.topic, message.payload, message.mid, message.qos, self.generation))

    def ack(self, messages) -> None:
        """Acknowledge, in the order received, the messages of the current connection."""
        for message in messages:
            if message.qos and message.generation == self.generation:
                self.client.ack(message.mid, message.qos)
