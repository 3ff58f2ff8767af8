"""Keep the database's catalogue of kinds in step with the installed drivers."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS


def sync_kinds(sender=None, using: str = DEFAULT_DB_ALIAS, **kwargs) -> None:
    """Record every registered kind in ``hems_device_kind`` (post_migrate handler).

    Kinds no driver provides any more stay, marked not installed, so the devices
    that use them remain valid rows.
    """
    if sender is not None and getattr(sender, "label", None) != "devices":
        return
    from hems.devices.models import KindRecord
    from hems.plugins import registry

    reg = registry()
    for kind in reg.kinds.values():
        KindRecord.objects.using(using).update_or_create(
            key=kind.key,
            defaults={
                "device_type": kind.device_type,
                "label": kind.label,
                "driver": reg.driver_of_kind(kind.key).name,
                "installed": True,
            },
        )
    KindRecord.objects.using(using).exclude(key__in=list(reg.kinds)).update(installed=False)
