"""The API's enumerations, shared by every kind."""

import graphene


class DeviceTypeEnum(graphene.Enum):
    """How a device's power counts in the home's balance."""

    PRODUCTION = "production"
    STORAGE = "storage"
    CONSUMPTION = "consumption"

    class Meta:
        name = "DeviceType"


class StatusEnum(graphene.Enum):
    """Online devices take part in the home's energy; offline ones do not."""

    ONLINE = "online"
    OFFLINE = "offline"

    class Meta:
        name = "Status"


class SourceEnum(graphene.Enum):
    """Where a device's state comes from: hems's simulation, or the device's own reports
    over MQTT (docs/live-devices.md)."""

    SIMULATED = "simulated"
    LIVE = "live"

    class Meta:
        name = "DeviceSource"


class CommandStateEnum(graphene.Enum):
    """A command to a live device: sent and not yet reported back, reported back, or not
    reported back within the timeout."""

    PENDING = "pending"
    CONFIRMED = "confirmed"
    FAILED = "failed"

    class Meta:
        name = "CommandState"


class StorageModeEnum(graphene.Enum):
    """What the user asks a storage device to do; AUTO (where a kind supports it)
    balances the home."""

    CHARGING = "charging"
    DISCHARGING = "discharging"
    IDLE = "idle"
    AUTO = "auto"

    class Meta:
        name = "StorageMode"


class IntervalEnum(graphene.Enum):
    """History bucket size, in the home's time zone."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"

    class Meta:
        name = "Interval"


def plain(value):
    """An enum input (graphene gives members) as the stored value."""
    return getattr(value, "value", value)
