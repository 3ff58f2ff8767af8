"""Whether a device acts now, and if not why: one rule for the API, the admin, the
stats and the tick."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from hems.sdk.types import Source, Status


def stale_after() -> timedelta:
    """How long a live device counts after its last report (``HEMS_LIVE_STALE_SECONDS``)."""
    return timedelta(seconds=settings.HEMS_LIVE_STALE_SECONDS)


def is_fresh(reported_at: datetime | None, now: datetime | None = None) -> bool:
    """A live device's last report is recent enough for its state to count."""
    if reported_at is None:
        return False
    return (now or timezone.now()) - reported_at <= stale_after()


def is_live(
    kind: str,
    status: str,
    available: bool,
    source: str = Source.SIMULATED,
    reported_at: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Online as the user set it, available as its driver's physics says (a vehicle
    away is not), its driver installed (a missing driver's devices are no longer
    simulated, so their last state is stale) and, for a live device, a report within
    ``HEMS_LIVE_STALE_SECONDS``."""
    return offline_reason(kind, status, available, source, reported_at, now) is None


def offline_reason(
    kind: str,
    status: str,
    available: bool,
    source: str = Source.SIMULATED,
    reported_at: datetime | None = None,
    now: datetime | None = None,
) -> str | None:
    """Why the device does not act now, for people (None when it does)."""
    from hems.plugins import registry

    if status != Status.ONLINE:
        return "set offline by the user"
    if kind not in registry().kinds:
        return "its driver is not installed"
    if source == Source.LIVE:
        if reported_at is None:
            return "no report yet"
        # Unavailable: it said "offline" (or its broker did, for it: its last will) on its
        # availability topic (hems.live.availability); that stays the reason once stale.
        if not available:
            return "reported offline on its availability topic"
        if not is_fresh(reported_at, now):
            return f"no report since {reported_at.astimezone(UTC).isoformat().replace('+00:00', 'Z')}"
    if not available:
        return "away on its schedule"
    return None


def device_reason(device, now: datetime | None = None) -> str | None:
    """:func:`offline_reason` of a ``Device`` (its ``state`` loaded, as by ``with_kinds()``)."""
    state = getattr(device, "state", None)
    return offline_reason(
        device.kind,
        device.status,
        state is None or state.available,
        getattr(device, "source", Source.SIMULATED),
        None if state is None else state.reported_at,
        now,
    )
