"""The MQTT topic layout of live devices, versioned by its prefix (``HEMS_MQTT_TOPIC_PREFIX``,
``hems/v1``)::

    hems/v1/<username>/state         the device publishes its reports (QoS 1)
    hems/v1/<username>/availability  the device publishes "online" / "offline" (its last will)
    hems/v1/<username>/command       hems publishes commands; the device subscribes

``<username>`` is the device's broker login (hems.live.credentials), so the broker's
ACL pattern ``%u`` confines each device to its own topics.
"""

from __future__ import annotations

from django.conf import settings

STATE, AVAILABILITY, COMMAND = "state", "availability", "command"


def prefix() -> str:
    return settings.HEMS_MQTT_TOPIC_PREFIX.rstrip("/")


def topic(username: str, channel: str) -> str:
    return f"{prefix()}/{username}/{channel}"


def subscription(channel: str) -> str:
    """Every device's topic of one channel, for hems's service login (``hems/v1/+/state``)."""
    return f"{prefix()}/+/{channel}"


def parse(name: str) -> tuple[str, str] | None:
    """``(username, channel)`` of a device topic, or None for anything else."""
    head, _, rest = name.partition(prefix() + "/")
    if head or rest.count("/") != 1:
        return None
    username, channel = rest.split("/")
    if not username or channel not in (STATE, AVAILABILITY, COMMAND):
        return None
    return username, channel
