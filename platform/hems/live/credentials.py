"""Each live device's own broker login: issued and rotated by hems, the password shown
once and kept only as a hash in mosquitto's format (so the password file is written from
the database as it is)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from hems.live import topics
from hems.sdk.types import Source

# mosquitto_passwd's default since 2.0: "$7$" PBKDF2-SHA512, 101 iterations, 12-byte salt.
ITERATIONS = 101


class NotLive(ValueError):
    """Only a live device has broker credentials."""


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str
    host: str
    port: int
    state_topic: str
    command_topic: str


def mosquitto_hash(password: str, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The password as ``mosquitto_passwd`` writes it: ``$7$<iterations>$<salt>$<hash>``."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify(password: str, hashed: str) -> bool:
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
    except ValueError:
        return False
    if kind != "7":
        return False
    expected = mosquitto_hash(password, base64.b64decode(salt), int(iterations))
    return hmac.compare_digest(expected.rsplit("$", 1)[1], digest)


def rotate(device) -> Credentials:
    """New credentials for a live device; the earlier password stops working once the
    broker has reloaded (at the commit). The username stays: it names the topics."""
    from hems.devices.models import DeviceCredentials

    if device.source != Source.LIVE:
        raise NotLive("Only a live device has credentials: set its source to LIVE first.")
    password = secrets.token_urlsafe(24)
    existing = DeviceCredentials.objects.select_for_update().filter(device_id=device.pk).first()
    username = existing.username if existing else f"d{secrets.token_hex(8)}"
    DeviceCredentials.objects.update_or_create(
        device_id=device.pk,
        defaults={"username": username, "password_hash": mosquitto_hash(password), "rotated_at": timezone.now()},
    )
    from hems.live import broker

    transaction.on_commit(broker.sync)
    return Credentials(
        username=username,
        password=password,
        host=settings.HEMS_MQTT_PUBLIC_HOST,
        port=settings.HEMS_MQTT_PUBLIC_PORT,
        state_topic=topics.topic(username, topics.STATE),
        command_topic=topics.topic(username, topics.COMMAND),
    )


def device_ids(usernames: Iterable[str]) -> dict[str, int]:
    """The devices behind broker usernames (one query), for the ingest."""
    from hems.devices.models import DeviceCredentials

    wanted = list(set(usernames))
    return dict(DeviceCredentials.objects.filter(username__in=wanted).values_list("username", "device_id"))


def username_of(device_id: int) -> str | None:
    from hems.devices.models import DeviceCredentials

    return DeviceCredentials.objects.filter(device_id=device_id).values_list("username", flat=True).first()


def issue_many(device_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """New passwords for many live devices at once (the emulator's fleet): one read, one
    bulk write, one broker reload at the commit. ``{device id: (username, password)}``;
    a device keeps its username."""
    from hems.devices.models import DeviceCredentials

    ids = sorted(set(int(i) for i in device_ids))
    existing = dict(DeviceCredentials.objects.filter(device_id__in=ids).values_list("device_id", "username"))
    now = timezone.now()
    issued, rows = {}, []
    for device_id in ids:
        username = existing.get(device_id) or f"d{secrets.token_hex(8)}"
        password = secrets.token_urlsafe(24)
        issued[device_id] = (username, password)
        rows.append(DeviceCredentials(device_id=device_id, username=username, password_hash=mosquitto_hash(password),
                                      rotated_at=now))  # fmt: skip
    DeviceCredentials.objects.bulk_create(
        rows, batch_size=2000, update_conflicts=True, unique_fields=["device"],
        update_fields=["password_hash", "rotated_at"],
    )  # fmt: skip
    from hems.live import broker

    transaction.on_commit(broker.sync)
    return issued
