"""The channel layer: Redis with the real stack, in memory in the embedded mode."""

from __future__ import annotations

from channels.layers import get_channel_layer
from channels_redis.core import RedisChannelLayer
from django.conf import settings


class RedisLayer(RedisChannelLayer):
    """channels-redis under ``HEMS_REDIS_PREFIX``, read when the layer is first used, so
    deployments sharing a Redis (and concurrent test runs) never see each other's groups."""

    def __init__(self, prefix: str | None = None, **kwargs):
        super().__init__(prefix=prefix or f"{settings.HEMS_REDIS_PREFIX}push", **kwargs)


def layer():
    """The configured channel layer, or None."""
    return get_channel_layer()


async def send_to_groups(groups: list[str], message: dict) -> None:
    channels = layer()
    if channels is None:
        return
    for group in groups:
        await channels.group_send(group, message)
