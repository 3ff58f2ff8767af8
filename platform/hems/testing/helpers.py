"""Small helpers a driver's own tests use instead of reaching into the core."""

from __future__ import annotations

from datetime import datetime

from hems.plugins import registry
from hems.sdk import DeviceKind


def kind(key: str) -> DeviceKind:
    """The registered kind with this key (``LookupError`` if no loaded driver has it)."""
    return registry().kind(key)


def driver_status(name: str) -> tuple[str, str | None]:
    """A driver's status (``loaded``, ``broken``, ``disabled``) and the reason, by its
    entry point name; ``("missing", None)`` when no such driver was discovered."""
    driver = registry().drivers.get(name)
    return (driver.status, driver.reason or None) if driver else ("missing", None)


def run_tick(instant: datetime) -> int:
    """Run one tick at ``instant`` over every shard, in this process and transaction
    (what ``manage.py simulate --at`` does); returns the number of devices simulated."""
    from hems.simulation.tick import run_tick as tick

    return sum(report.devices for report in tick(instant) if report.applied)


def set_state(device, **values) -> None:
    """Write a device's live state (``power_w``, ``flow_w``, ``level_wh``,
    ``available``...) as if a tick had, to test what the API makes of it."""
    from hems.devices.models import DeviceState

    DeviceState.objects.filter(pk=device.pk).update(**values)
