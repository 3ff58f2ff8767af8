import graphene
from django.db import transaction
from graphene.utils.str_converters import to_camel_case

from hems.api.auth import login_required
from hems.api.devices.lookup import own_device
from hems.api.devices.mutations.common import attributes, kind_fields_in, save
from hems.api.devices.types import DeviceInterface, for_graphql
from hems.api.enums import plain
from hems.api.errors import bad_input


def update_device(input_type) -> type[graphene.Mutation]:
    class UpdateDevice(graphene.Mutation):
        """Change some of a device's fields; the others keep their values."""

        device = graphene.Field(DeviceInterface, required=True)

        class Meta:
            name = "UpdateDevicePayload"

        class Arguments:
            id = graphene.ID(required=True)
            input = input_type(required=True)

        @staticmethod
        @transaction.atomic  # a savepoint: a refused mutation writes nothing
        @login_required
        def mutate(root, info, id, input, user):
            device = own_device(user, id, for_update=True).specific
            keys = kind_fields_in(input)
            foreign = [key for key in keys if key != device.kind]
            if foreign:
                raise bad_input(
                    f"This device is a {device.kind}; {to_camel_case(foreign[0])} does not apply to it.",
                    field=to_camel_case(foreign[0]),
                )
            changes = {name: input[name] for name in ("name", "status") if name in input}
            if device.kind in keys:
                changes.update(attributes(input[device.kind]))
            for name, value in changes.items():
                setattr(device, name, plain(value))
            if changes:
                save(device, device.kind, update_fields=[*changes, "updated_at"])
            return UpdateDevice(device=for_graphql(device))

    return UpdateDevice
