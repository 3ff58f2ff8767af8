"""The Subscription root: what a client may subscribe to (names in the API spec)."""

from __future__ import annotations

import graphene

from hems.api.auth import login_required
from hems.api.devices.lookup import own_devices
from hems.api.devices.types import DeviceInterface, for_graphql_list
from hems.api.energy.schema import EnergyStats, as_graphql
from hems.energy import cache


async def on_change(root, info):
    """Wake once at subscription, then after each change published for the caller.

    The version is taken before each read, so a change during a read wakes it again
    (nothing is missed) and ten changes during a read wake it once (coalesced)."""
    changes = info.context.changes
    while True:
        seen = changes.version
        yield seen
        await changes.wait(seen)


class Subscription(graphene.ObjectType):
    energy_stats = graphene.Field(
        EnergyStats,
        required=True,
        description="The caller's home energy now: sent at once, then after each tick or accepted live report "
        "that changes it (the latest figures only: a client never gets stale intermediate ones).",
    )
    devices = graphene.List(
        graphene.NonNull(DeviceInterface),
        required=True,
        description="All the caller's devices, newest first (as allDevices): sent at once, then whenever any "
        "of them changed (state, settings, added or deleted). Replace your list with each message.",
    )

    subscribe_energy_stats = staticmethod(on_change)
    subscribe_devices = staticmethod(on_change)

    @staticmethod
    @login_required
    def resolve_energy_stats(root, info, user):
        return as_graphql(cache.stats_for(user.pk))

    @staticmethod
    @login_required
    def resolve_devices(root, info, user):
        return for_graphql_list(own_devices(user))
