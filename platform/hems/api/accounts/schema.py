"""Authentication (tokens), the caller and their home."""

import graphene
import graphql_jwt
from django.core.exceptions import ValidationError

from hems.api.accounts.types import HomeType, MeType
from hems.api.auth import login_required
from hems.api.errors import from_validation_error
from hems.devices.models import Home


class AccountQueries(graphene.ObjectType):
    me = graphene.Field(MeType, required=True, description="The caller and their home.")

    @staticmethod
    @login_required
    def resolve_me(root, info, user):
        return user


class UpdateHomeInput(graphene.InputObjectType):
    latitude = graphene.Float()
    longitude = graphene.Float()
    time_zone = graphene.String()


class UpdateHome(graphene.Mutation):
    """Move the home or change its time zone; omitted fields keep their values."""

    home = graphene.Field(HomeType, required=True)

    class Meta:
        name = "UpdateHomePayload"

    class Arguments:
        input = UpdateHomeInput(required=True)

    @staticmethod
    @login_required
    def mutate(root, info, input, user):
        home = Home.objects.select_for_update().get(pk=Home.of(user).pk)
        for name in ("latitude", "longitude", "time_zone"):
            if name in input:
                setattr(home, name, input[name])
        try:
            home.full_clean()
        except ValidationError as exc:
            raise from_validation_error(exc) from None
        home.save()
        return UpdateHome(home=home)


class AccountMutations(graphene.ObjectType):
    login_user = graphql_jwt.ObtainJSONWebToken.Field(
        description="Exchange a username and password for an access token and a refresh token."
    )
    refresh_token = graphql_jwt.Refresh.Field(description="Exchange a refresh token for a new access token.")
    verify_token = graphql_jwt.Verify.Field(description="Check an access token and return its payload.")
    revoke_token = graphql_jwt.Revoke.Field(description="Revoke a refresh token (log out).")
    update_home = UpdateHome.Field()
