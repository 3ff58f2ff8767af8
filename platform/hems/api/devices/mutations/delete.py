import graphene

from hems.api.auth import login_required
from hems.api.devices.lookup import own_device


class DeleteDevice(graphene.Mutation):
    """Delete one of the caller's devices, with its state and history."""

    id = graphene.ID(required=True)

    class Meta:
        name = "DeleteDevicePayload"

    class Arguments:
        id = graphene.ID(required=True)

    @staticmethod
    @login_required
    def mutate(root, info, id, user):
        device = own_device(user, id, for_update=True)
        pk = device.pk
        device.delete()
        return DeleteDevice(id=pk)
