"""What "changes nothing" means in these tests: every row a user can reach, as values."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from hems.devices.models import Device, DeviceState, Home
from hems.plugins import registry


def database() -> dict:
    """Every user, home, device, kind row and live state, ordered; equal before and after
    a refused request when nothing was written."""
    tables = {
        "users": get_user_model().objects.order_by("pk").values(),
        "homes": Home.objects.order_by("pk").values(),
        "devices": Device.objects.order_by("pk").values(),
        "states": DeviceState.objects.order_by("pk").values(),
    }
    for key, kind in registry().kinds.items():
        tables[key] = kind.model.objects.order_by("pk").values(*[f.attname for f in kind.model._meta.concrete_fields])
    return {name: list(rows) for name, rows in tables.items()}
