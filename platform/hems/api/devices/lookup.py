"""Finding the caller's devices: another user's id answers exactly as a missing one."""

from __future__ import annotations

from hems.api.devices.plan import joins_as_written
from hems.api.errors import not_found
from hems.devices.models import Device


def parse_id(value) -> int | None:
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if 0 < number < 2**63 else None


def own_devices(user):
    return Device.objects.with_kinds().owned_by(user)


def own_device(user, device_id, *, for_update: bool = False) -> Device:
    """The caller's device with that id, as its kind's model, or NOT_FOUND."""
    pk = parse_id(device_id)
    if pk is None:
        raise not_found()
    queryset = own_devices(user)
    if for_update:
        # Lock the device's rows (base and kind table) for the rest of the mutation.
        queryset = queryset.select_for_update(of=("self",))
    with joins_as_written():
        device = queryset.filter(pk=pk).first()
    if device is None:
        raise not_found()
    return device
