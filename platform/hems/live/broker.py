"""Keep the MQTT broker's password and ACL files in step with the devices' credentials.

Mosquitto reads ``password_file`` and ``acl_file`` at start and again on SIGHUP. hems
writes both whole (atomically: a temporary file renamed over) from the database: hems's
service login, and one line per live device that has credentials. The ACL gives every
device its own topics through ``pattern`` lines (``%u`` is the login) and the service
login every device's state and availability to read and command topics to write (a
driver's vendor formats' topics too: Tasmota's ``tele/SENSOR``, ``tele/LWT``, ``cmnd/POWER``).
Nothing happens unless ``HEMS_MQTT_PASSWORD_FILE`` is set. At a very large fleet the
dynamic-security plugin (changes over MQTT, no file rewrite) is the next step.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
from pathlib import Path

from django.conf import settings

from hems.live import topics
from hems.live.credentials import mosquitto_hash
from hems.sdk.types import Source

logger = logging.getLogger("hems.live")


def password_lines() -> list[str]:
    from hems.devices.models import DeviceCredentials

    lines = [
        f"{username}:{mosquitto_hash(password)}"
        for username, password in (
            (settings.HEMS_MQTT_SERVICE_USERNAME, settings.HEMS_MQTT_SERVICE_PASSWORD),
            (settings.HEMS_MQTT_INGEST_USERNAME, settings.HEMS_MQTT_INGEST_PASSWORD),  # reads reports only
            (settings.HEMS_MQTT_EMULATOR_USERNAME, settings.HEMS_MQTT_EMULATOR_PASSWORD),  # manage.py emulate --shared
        )
        if password
    ]
    rows = DeviceCredentials.objects.filter(device__source=Source.LIVE).order_by("username")
    lines += [f"{username}:{hashed}" for username, hashed in rows.values_list("username", "password_hash")]
    return lines


def vendor_topics() -> list[str]:
    """The topics (under a device's root) the installed kinds' vendor formats publish on:
    their reports, their availability and their fields' values (Tasmota's
    ``tele/SENSOR``, ``tele/LWT``, ``stat/POWER``)."""
    from hems.plugins import registry

    codecs = [codec for kind in registry().kinds.values() for codec in kind.codecs]
    found = {codec.topic for codec in codecs}
    found |= {topic for codec in codecs for topic in (codec.availability_topic, codec.fields_topic) if topic}
    return sorted(found - {topics.STATE, topics.AVAILABILITY, topics.COMMAND})


def vendor_command_topics() -> list[str]:
    """The topics (under a device's root) the vendor formats' devices take commands on
    (Tasmota's ``cmnd/POWER``)."""
    from hems.plugins import registry

    found = {t for kind in registry().kinds.values() for codec in kind.codecs for t in codec.command_topics.values()}
    return sorted(found - {topics.STATE, topics.AVAILABILITY, topics.COMMAND})


def acl_text() -> str:
    device = f"{topics.prefix()}/%u"
    vendor, vendor_commands = vendor_topics(), vendor_command_topics()
    reports = [topics.subscription(topics.STATE), *(topics.subscription(t) for t in vendor)]
    commands = [topics.subscription(t) for t in (topics.COMMAND, *vendor_commands)]
    return "\n".join(
        [
            "# Written by hems (hems.live.broker): edits are overwritten.",
            "# Each device: its own topics only (%u is its login).",
            f"pattern write {device}/{topics.STATE}",
            f"pattern write {device}/{topics.AVAILABILITY}",
            f"pattern read {device}/{topics.COMMAND}",
            *(f"pattern write {device}/{t}" for t in vendor),  # a driver's vendor format (Tasmota's tele/SENSOR)
            *(f"pattern read {device}/{t}" for t in vendor_commands),  # its commands (Tasmota's cmnd/POWER)
            "",
            "# hems: every device's reports in, commands out.",
            f"user {settings.HEMS_MQTT_SERVICE_USERNAME}",
            *(f"topic read {t}" for t in reports),
            f"topic read {topics.subscription(topics.AVAILABILITY)}",
            *(f"topic write {t}" for t in commands),
            "",
            "# The ingest: every device's reports, read only.",
            f"user {settings.HEMS_MQTT_INGEST_USERNAME}",
            *(f"topic read {t}" for t in reports),
            f"topic read {topics.subscription(topics.AVAILABILITY)}",
            "",
            *emulator_lines(),
        ]
    )


def emulator_lines() -> list[str]:
    """Only when an emulator login is configured: it may publish for any device, which is
    what load tests need and what no production broker should allow (docs/live-devices.md)."""
    if not settings.HEMS_MQTT_EMULATOR_PASSWORD:
        return []
    return [
        "# The emulator (manage.py emulate --shared): publishes for every device it emulates.",
        f"user {settings.HEMS_MQTT_EMULATOR_USERNAME}",
        f"topic write {topics.subscription(topics.STATE)}",
        f"topic read {topics.subscription(topics.COMMAND)}",
        "",
    ]


def write_atomically(path: str, text: str) -> None:
    target = Path(path)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.chmod(temporary, 0o640)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def reload() -> bool:
    """SIGHUP to the broker whose pid file is configured: it rereads both files."""
    pid_file = settings.HEMS_MQTT_BROKER_PID_FILE
    if not pid_file:
        return False
    try:
        os.kill(int(Path(pid_file).read_text().strip()), signal.SIGHUP)
    except (OSError, ValueError) as exc:
        logger.warning("could not signal the MQTT broker to reload its credentials: %s", exc)
        return False
    return True


def sync() -> None:
    """Write the password and ACL files from the database and have the broker reload them."""
    if not settings.HEMS_MQTT_PASSWORD_FILE:
        return
    write_atomically(settings.HEMS_MQTT_PASSWORD_FILE, "\n".join(password_lines()) + "\n")
    if settings.HEMS_MQTT_ACL_FILE:
        write_atomically(settings.HEMS_MQTT_ACL_FILE, acl_text())
    reload()
