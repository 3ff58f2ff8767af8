import graphene

from hems.api.auth import login_required
from hems.api.devices.listing import devices_of
from hems.api.devices.lookup import own_device
from hems.api.devices.types import DeviceInterface, for_graphql, for_graphql_list


class DeviceQueries(graphene.ObjectType):
    all_devices = graphene.List(
        graphene.NonNull(DeviceInterface), required=True, description="The caller's devices, newest first."
    )
    device = graphene.Field(DeviceInterface, id=graphene.ID(required=True), description="One of the caller's devices.")

    @staticmethod
    @login_required
    def resolve_all_devices(root, info, user):
        # One query for every kind's fields and the live state (with_kinds(), compiled
        # once), one for the live devices' pending commands.
        return for_graphql_list(devices_of(user.pk))

    @staticmethod
    @login_required
    def resolve_device(root, info, id, user):
        return for_graphql(own_device(user, id))
