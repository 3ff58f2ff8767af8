from django.conf import settings
from django.db.models.signals import post_save
from django.dispatch import receiver

from hems.devices.models import Home


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="hems.devices.create_home")
def create_home(sender, instance, created, raw=False, **kwargs):
    """Every user has a home profile, at the default location until they set theirs."""
    if created and not raw:
        Home.objects.get_or_create(owner=instance)
