import logging

import redis
from django.conf import settings
from django.db import connections, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from hems.devices.models import Device, Home

logger = logging.getLogger("hems.devices")


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="hems.devices.create_home")
def create_home(sender, instance, created, raw=False, **kwargs):
    """Every user has a home profile, at the default location until they set theirs."""
    if created and not raw:
        Home.objects.get_or_create(owner=instance)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="hems.devices.end_tokens_of_inactive_user")
def end_tokens_of_inactive_user(sender, instance, raw=False, **kwargs):
    """Deactivating a user ends every token of the account: access tokens are refused for
    an inactive user, and every refresh token is revoked here, so that reactivating the
    account does not revive them."""
    if raw or instance.is_active:
        return
    from graphql_jwt.refresh_token.utils import get_refresh_token_model

    get_refresh_token_model().objects.filter(user=instance, revoked__isnull=True).update(revoked=timezone.now())


def configuration_changed(owner_id: int) -> None:
    """After the change commits, cached stats read before it are stale, and the owner's
    subscribers hear of it now rather than at the next tick."""
    from hems.energy import cache
    from hems.push import publish_changes

    def after_commit() -> None:
        cache.config_changed(owner_id)
        publish_changes([owner_id])

    transaction.on_commit(after_commit)


@receiver(post_save, dispatch_uid="hems.devices.device_saved")
@receiver(post_delete, dispatch_uid="hems.devices.device_deleted")
def device_changed(sender, instance, raw=False, **kwargs):
    if not raw and isinstance(instance, (Device, Home)):
        configuration_changed(instance.owner_id)


# History rows carry bare ids (no foreign keys: a check per row would slow the tick's
# bulk inserts), so what the database would cascade is deleted here, in the same
# transaction as the device or the user.


@receiver(post_delete, sender=Device, dispatch_uid="hems.devices.erase_device_history")
def erase_device_history(sender, instance, using, **kwargs):
    """A deleted device takes its hourly and daily history with it."""
    from hems.simulation.history import DEVICE_DAY_TABLE, DEVICE_TABLE

    with connections[using].cursor() as cursor:
        for table in (DEVICE_TABLE, DEVICE_DAY_TABLE):
            cursor.execute(f"DELETE FROM {table} WHERE device_id = %s", [instance.pk])


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="hems.devices.erase_owner")
def erase_owner(sender, instance, using, **kwargs):
    """A deleted user takes their home's history, their login records and their cached
    stats with them (their home, devices, states and tokens go by cascade, each device's
    history above)."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    from hems.simulation.history import DAY_TABLE, HOUR_TABLE, RUNNING_TABLE, TABLE

    owner_id = instance.pk
    with connections[using].cursor() as cursor:
        for table in (TABLE, RUNNING_TABLE, HOUR_TABLE, DAY_TABLE):
            cursor.execute(f"DELETE FROM {table} WHERE owner_id = %s", [owner_id])
    # The login throttle's records name the account instead of pointing at it.
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        model.objects.using(using).filter(username=instance.get_username()).delete()
    # Registered after the cascade's own callbacks (the user goes last), so it runs last.
    transaction.on_commit(lambda: forget_stats(owner_id), using=using)


def forget_stats(owner_id: int) -> None:
    from hems.energy import cache

    if not cache.enabled():
        return
    try:
        cache.client().delete(cache.key(owner_id))
    except redis.RedisError as exc:
        logger.warning("could not delete the cached stats of deleted owner %d: %s", owner_id, exc)


@receiver(post_delete, sender="devices.DeviceCredentials", dispatch_uid="hems.devices.credentials_deleted")
def credentials_deleted(sender, instance, **kwargs):
    """A deleted live device's broker login goes with it (once the deletion commits)."""
    from hems.live import broker

    transaction.on_commit(broker.sync)
