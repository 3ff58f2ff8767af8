"""The home now: its energyStats and every device with its status and power, in the
shape the page renders first and the live stream then updates (the API's field names)."""

from __future__ import annotations

from hems.devices.kind_admin import live_power
from hems.devices.liveness import device_reason
from hems.devices.models import Device
from hems.energy import cache
from hems.plugins import registry
from hems.sdk.types import DeviceType, Status

TYPE_ORDER = {DeviceType.PRODUCTION: 0, DeviceType.STORAGE: 1, DeviceType.CONSUMPTION: 2}


def energy_stats(owner_id: int) -> dict:
    """energyStats as the API and the subscription answer it."""
    stats = cache.stats_for(owner_id)
    return {
        "currentProduction": stats.current_production,
        "currentConsumption": stats.current_consumption,
        "currentStorage": {
            "totalCapacityWh": stats.total_capacity_wh,
            "currentLevelWh": stats.current_level_wh,
            "percentage": stats.percentage,
        },
        "currentStorageFlow": stats.current_storage_flow,
        "netGridFlow": stats.net_grid_flow,
        "timestamp": stats.timestamp.isoformat(),
    }


def devices(owner_id: int) -> list[dict]:
    """Every device of the home, production first, then storage, then consumption."""
    kinds = registry().kinds
    rows = []
    for device in Device.objects.filter(owner_id=owner_id).select_related("state"):
        state = getattr(device, "state", None)
        reason = device_reason(device)  # the one rule: None when the device acts now
        live = state is not None and reason is None
        kind = kinds.get(device.kind)
        row = {
            "id": str(device.pk),
            "name": device.name,
            "kind": device.kind,
            "kindLabel": kind.label if kind else f"{device.kind} (driver missing)",
            "deviceType": str(device.device_type).upper(),
            "status": Status.ONLINE.value.upper() if live else Status.OFFLINE.value.upper(),
            "statusReason": reason,
            "powerW": live_power(device),
        }
        if device.device_type == DeviceType.STORAGE and state is not None and state.capacity_wh:
            row["levelWh"] = state.level_wh or 0.0
            row["capacityWh"] = state.capacity_wh
            row["percentage"] = (state.level_wh or 0.0) / state.capacity_wh * 100.0
            row["flowW"] = state.flow_w if live else 0.0
        rows.append(row)
    rows.sort(key=lambda r: (TYPE_ORDER.get(r["deviceType"].lower(), 3), r["name"].lower(), r["id"]))
    return rows
