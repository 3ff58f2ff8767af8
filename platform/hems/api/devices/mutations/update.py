import graphene
from graphene.utils.str_converters import to_camel_case

from hems.api.auth import login_required
from hems.api.devices.lookup import own_device
from hems.api.devices.mutations.common import attributes, kind_fields_in, save
from hems.api.devices.types import DeviceInterface, for_graphql
from hems.api.enums import plain
from hems.api.errors import bad_input
from hems.live import commands


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
            changes = {name: input[name] for name in ("name", "status", "source") if name in input}
            if device.kind in keys:
                changes.update(attributes(input[device.kind]))
            for name, value in changes.items():
                setattr(device, name, plain(value))
            if changes:
                save(device, device.kind, update_fields=[*changes, "updated_at"])
                commands.send(device, changes)  # a live device is told (hems.live.commands)
            # The answer is what is stored (defaults, clipping, the database's own rounding).
            return UpdateDevice(device=for_graphql(own_device(user, device.pk)))

    return UpdateDevice
