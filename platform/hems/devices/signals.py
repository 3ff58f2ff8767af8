from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from hems.devices.models import Device, Home


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="hems.devices.create_home")
def create_home(sender, instance, created, raw=False, **kwargs):
    """Every user has a home profile, at the default location until they set theirs."""
    if created and not raw:
        Home.objects.get_or_create(owner=instance)


def configuration_changed(owner_id: int) -> None:
    """After the change commits, cached stats read before it are stale."""
    from hems.energy import cache

    transaction.on_commit(lambda: cache.config_changed(owner_id))


@receiver(post_save, dispatch_uid="hems.devices.device_saved")
@receiver(post_delete, dispatch_uid="hems.devices.device_deleted")
def device_changed(sender, instance, raw=False, **kwargs):
    if not raw and isinstance(instance, (Device, Home)):
        configuration_changed(instance.owner_id)
