"""Enumerations every part of hems agrees on (see the energy rules)."""

from django.db import models


class DeviceType(models.TextChoices):
    """How a device's power counts in a home's balance."""

    PRODUCTION = "production", "Production"
    STORAGE = "storage", "Storage"
    CONSUMPTION = "consumption", "Consumption"


class Status(models.TextChoices):
    """A device's configured status: offline devices draw and give no power."""

    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"


class Source(models.TextChoices):
    """Where a device's state comes from: the tick's physics, or the device's own reports."""

    SIMULATED = "simulated", "Simulated"
    LIVE = "live", "Live"


class StorageMode(models.TextChoices):
    """What the user asks a storage device to do; AUTO balances the home."""

    CHARGING = "charging", "Charging"
    DISCHARGING = "discharging", "Discharging"
    IDLE = "idle", "Idle"
    AUTO = "auto", "Auto"
