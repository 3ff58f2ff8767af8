"""What the dashboard's chart draws for a period: the history's energy per bucket and,
over a day, the level of each storage device."""

from __future__ import annotations

from datetime import UTC, datetime

from hems.dashboard.flows import home_flows
from hems.dashboard.periods import Period
from hems.devices.models import Device
from hems.energy.buckets import bucket_starts, following
from hems.plugins import registry
from hems.sdk.types import DeviceType
from hems.simulation import history

LABELS = {"hour": "%H:%M", "day": "%a %-d"}
# Hours walked back from now to a day's start: the hourly device history's retention
# bounds it.
MAX_HOURS = 24 * 400


def energy(owner_id: int, period: Period) -> dict:
    """The six history figures (Wh) per bucket of the period, zero where nothing was recorded."""
    starts = bucket_starts(period.start, period.end, period.interval, period.zone, limit=MAX_HOURS)
    recorded = history.buckets(owner_id, starts[0], period.end, period.interval, period.zone)
    empty = dict.fromkeys(history.ENERGY, 0.0)
    rows = [recorded.get(start.astimezone(UTC), empty) for start in starts]  # keyed by UTC instant
    label = LABELS[period.interval] if period.view != "month" else "%-d"
    return {
        "starts": [start.isoformat() for start in starts],
        "labels": [start.strftime(label) for start in starts],
        "wh": {name.removesuffix("_wh"): [row[name] for row in rows] for name in history.ENERGY},
    }


def storage_levels(owner_id: int, period: Period) -> list[dict]:
    """Each storage device's level (Wh and %) at the end of every hour of a day view.

    The hourly history records a storage device's level at the end of each hour; the
    hour under way ends, so far, at the level now. An hour without a recorded level
    (recorded before hems kept levels, or not ticked at all) is estimated: walked back
    from the next hour's end level less what that hour charged, plus what it discharged,
    kept within [0, capacity]. Energy gained or lost outside the flows (conversion
    losses, a vehicle's driving) is not in such an estimate; ``estimated`` says whether
    the device has one.
    """
    if period.view != "day":
        return []
    kinds = registry().kinds
    devices = Device.objects.filter(owner_id=owner_id, device_type=DeviceType.STORAGE).select_related("state")
    levels = []
    for device in devices.order_by("name", "pk"):
        state = getattr(device, "state", None)
        if state is None or state.hour_start is None or not state.capacity_wh or state.hour_start < period.start:
            continue  # never simulated, or its last state predates the day
        hours = bucket_starts(period.start, period.end, "hour", period.zone, limit=MAX_HOURS)
        at_end, estimated = hour_end_levels(device.pk, state, period, hours)
        kind = kinds.get(device.kind)
        levels.append(
            {
                "id": str(device.pk),
                "name": device.name,
                "kind": kind.label if kind else device.kind,
                "capacity_wh": state.capacity_wh,
                "wh": at_end,
                "percent": [None if wh is None else wh / state.capacity_wh * 100.0 for wh in at_end],
                "estimated": estimated,
            }
        )
    return levels


def hour_end_levels(device_id: int, state, period: Period, hours: list[datetime]) -> tuple[list[float | None], bool]:
    """End-of-hour levels over ``hours``: as recorded, else walked back from the next
    hour's; None for the hours still to come and for those before the device's first
    recorded hour (it was not there yet). Also whether any of ``hours`` is estimated."""
    # The hour under way is in the state row, not yet in the hourly history. Every
    # instant in UTC: equality in one zone would merge a fall-back night's two hours.
    current = state.hour_start.astimezone(UTC)
    recorded = history.device_buckets(device_id, period.start, current, "hour", period.zone)
    net = {start: bucket["charge_wh"] - bucket["discharge_wh"] for start, bucket in recorded.items()}
    net[current] = state.hour_charge_wh - state.hour_discharge_wh
    first = min(net)
    walked = bucket_starts(first, current, "hour", period.zone, limit=MAX_HOURS)
    walked_hours = [hour.astimezone(UTC) for hour in walked]
    level = state.level_wh or 0.0
    at_end = {current: level}
    estimates = set()
    for hour in reversed(walked_hours):  # each earlier hour ends where the next began
        known = recorded.get(hour, {}).get("level_wh")
        if known is None:
            following_hour = following(hour, "hour", period.zone).astimezone(UTC)
            level = min(max(level - net.get(following_hour, 0.0), 0.0), state.capacity_wh)
            estimates.add(hour)
        else:
            level = known
        at_end[hour] = level
    hours = [hour.astimezone(UTC) for hour in hours]
    return [at_end.get(hour) for hour in hours], any(hour in estimates for hour in hours)


def chart(owner_id: int, period: Period) -> dict:
    """Everything the chart and the flow diagram need, JSON-ready."""
    flows = home_flows(owner_id, period.start, period.end)
    levels = storage_levels(owner_id, period)
    return {
        "view": period.view,
        "label": period.label,
        "zone": period.zone.key,
        "current": period.is_current,
        "energy": energy(owner_id, period),
        "levels": levels,
        "levels_estimated": any(level["estimated"] for level in levels),
        "flows": flows.as_dict(),
    }
