"""Whether a device acts now: one rule for the API, the admin and the stats."""

from __future__ import annotations

from hems.sdk.types import Status


def is_live(kind: str, status: str, available: bool) -> bool:
    """Online as the user set it, available as its driver's physics says (a vehicle
    away is not), and its driver installed: a missing driver's devices are no longer
    simulated, so their last state is stale."""
    from hems.plugins import registry

    return status == Status.ONLINE and bool(available) and kind in registry().kinds
