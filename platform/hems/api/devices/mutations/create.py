import graphene

from hems.api.auth import login_required
from hems.api.devices.lookup import own_device
from hems.api.devices.mutations.common import attributes, exactly_one_kind, save
from hems.api.devices.types import DeviceInterface, for_graphql
from hems.api.enums import plain
from hems.plugins import registry


def create_device(input_type) -> type[graphene.Mutation]:
    class CreateDevice(graphene.Mutation):
        """Create a device of the kind whose field the input holds."""

        device = graphene.Field(DeviceInterface, required=True)

        class Meta:
            name = "CreateDevicePayload"

        class Arguments:
            input = input_type(required=True)

        @staticmethod
        @login_required
        def mutate(root, info, input, user):
            key = exactly_one_kind(input)
            kind = registry().kind(key)
            device = kind.model(
                name=input.get("name"),
                status=plain(input.get("status")) or "online",
                source=plain(input.get("source")) or "simulated",
                owner=user,
                **attributes(input[key]),
            )
            save(device, key)
            # The answer is what is stored (defaults, clipping, the database's own rounding).
            return CreateDevice(device=for_graphql(own_device(user, device.pk)))

    return CreateDevice
