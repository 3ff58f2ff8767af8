import graphene
from django.db import transaction

from hems.api.auth import login_required
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
        @transaction.atomic  # a savepoint: a refused mutation writes nothing
        @login_required
        def mutate(root, info, input, user):
            key = exactly_one_kind(input)
            kind = registry().kind(key)
            device = kind.model(
                name=input.get("name"),
                status=plain(input.get("status")) or "online",
                owner=user,
                **attributes(input[key]),
            )
            save(device, key)
            return CreateDevice(device=for_graphql(device))

    return CreateDevice
