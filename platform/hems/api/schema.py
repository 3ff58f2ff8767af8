"""The GraphQL schema, composed from the core's parts and the registered kinds.

Built once per process, after the drivers are loaded: the Device interface, one
type per kind, one input field per kind. The core names no kind here.
"""

from __future__ import annotations

import graphene

from hems.api.accounts.schema import AccountMutations, AccountQueries
from hems.api.devices.inputs import device_inputs
from hems.api.devices.mutations.create import create_device
from hems.api.devices.mutations.credentials import RotateDeviceCredentials
from hems.api.devices.mutations.delete import DeleteDevice
from hems.api.devices.mutations.update import update_device
from hems.api.devices.queries import DeviceQueries
from hems.api.devices.types import StorageInterface, UnavailableDevice, kind_types
from hems.api.energy.schema import EnergyQueries
from hems.plugins import Registry, registry
from hems.push.schema import Subscription


def build_schema(reg: Registry | None = None) -> graphene.Schema:
    reg = reg or registry()
    types = kind_types(reg)
    create_input, update_input = device_inputs(reg)

    class Query(AccountQueries, DeviceQueries, EnergyQueries, graphene.ObjectType):
        pass

    class Mutation(AccountMutations, graphene.ObjectType):
        create_device = create_device(create_input).Field()
        update_device = update_device(update_input).Field()
        delete_device = DeleteDevice.Field()
        rotate_device_credentials = RotateDeviceCredentials.Field()

    return graphene.Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[*types.values(), UnavailableDevice, StorageInterface],
    )


schema = build_schema()
