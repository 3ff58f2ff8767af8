import graphene


class HomeType(graphene.ObjectType):
    """Where the home is: the sun and the local clock of its devices are read here."""

    latitude = graphene.Float(required=True)
    longitude = graphene.Float(required=True)
    time_zone = graphene.String(required=True, description="IANA time zone, e.g. Europe/Berlin.")

    class Meta:
        name = "Home"


class MeType(graphene.ObjectType):
    username = graphene.String(required=True)
    home = graphene.Field(HomeType, required=True)

    class Meta:
        name = "Me"

    @staticmethod
    def resolve_home(user, info):
        from hems.devices.models import Home

        return Home.of(user)
