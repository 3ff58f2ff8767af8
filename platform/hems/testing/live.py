"""Live telemetry in a driver's tests: a payload through the real ingest pipeline."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction


def ingest(device, payload: bytes, topic: str = "state", now: datetime | None = None) -> str:
    """Send ``payload`` as ``device`` (a live device; credentials are issued if it has
    none) on ``topic`` under its own root (``"state"``, or a codec's ``topic``) through
    the ingest's steps and its write. Returns ``""`` when the report was stored, else
    the reason it was refused. ``now``: the write's clock (freezegun works too)."""
    from hems.devices.models import DeviceCredentials
    from hems.live import credentials, topics
    from hems.live.ingest import apply_reports
    from hems.live.pipeline import Message, Metrics, Pipeline

    username = DeviceCredentials.objects.filter(device_id=device.pk).values_list("username", flat=True).first()
    if username is None:
        with transaction.atomic():
            username = credentials.rotate(device).username

    def write(*args, **kwargs):
        return apply_reports(*args, **kwargs, now=now)

    metrics = Metrics()
    Pipeline(metrics=metrics, write=write).process([Message(topics.topic(username, topic), payload)])
    return "" if metrics.accepted else next(iter(metrics.refused), "not stored")
