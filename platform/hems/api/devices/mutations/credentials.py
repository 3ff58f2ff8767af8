import graphene

from hems.api.auth import login_required
from hems.api.devices.lookup import own_device
from hems.api.errors import bad_input
from hems.live import credentials


class DeviceCredentialsType(graphene.ObjectType):
    """How a live device logs in to the MQTT broker and where it talks (docs/live-devices.md)."""

    username = graphene.String(required=True, description="The broker login; it also names the device's topics.")
    password = graphene.String(required=True, description="Shown only in this answer; hems keeps a hash.")
    host = graphene.String(required=True)
    port = graphene.Int(required=True)
    state_topic = graphene.String(required=True, description="Where the device publishes its reports.")
    command_topic = graphene.String(required=True, description="Where the device receives commands.")

    class Meta:
        name = "DeviceCredentials"


class RotateDeviceCredentials(graphene.Mutation):
    """New broker credentials for one of the caller's live devices; earlier ones stop working."""

    credentials = graphene.Field(DeviceCredentialsType, required=True)

    class Meta:
        name = "RotateDeviceCredentialsPayload"

    class Arguments:
        id = graphene.ID(required=True)

    @staticmethod
    @login_required
    def mutate(root, info, id, user):
        device = own_device(user, id, for_update=True)
        try:
            issued = credentials.rotate(device)
        except credentials.NotLive as exc:
            raise bad_input(str(exc), field="source") from None
        return RotateDeviceCredentials(credentials=DeviceCredentialsType(**issued.__dict__))
