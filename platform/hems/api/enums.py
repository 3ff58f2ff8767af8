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
