"""Kind-agnostic helpers for the core's tests: devices built from each kind's example."""

from __future__ import annotations

from hems.devices.models import Device
from hems.plugins import registry


def make_device(owner, kind_key: str, name: str | None = None, **changes) -> Device:
    """Create a valid device of the kind from the kind's own example attributes."""
    kind = registry().kind(kind_key)
    device = kind.model(name=name or f"{kind.label} of {owner}", owner=owner, **{**kind.example, **changes})
    device.full_clean()
    device.save()
    return device


def kind_keys() -> list[str]:
    return sorted(registry().kinds)


def storage_kind_keys() -> list[str]:
    return sorted(k for k, kind in registry().kinds.items() if kind.device_type == "storage")


def last_simulated(state):
    """When the tick last simulated a device (``DeviceState``): its row's ``simulated_at``
    is when a tick last changed it (``hems.simulation.ticked``)."""
    from hems.simulation.ticked import last_simulated_of

    return last_simulated_of(state)
