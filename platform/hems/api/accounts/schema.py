"""Authentication (tokens), the caller and their home."""

import graphene
import graphql_jwt
from django.core.exceptions import ValidationError
from graphql_jwt.exceptions import JSONWebTokenError
from graphql_jwt.refresh_token.signals import refresh_token_rotated
from graphql_jwt.utils import get_user_by_payload

from hems.api.accounts.types import HomeType, MeType
from hems.api.auth import login_required
from hems.api.errors import from_validation_error, too_many_attempts
from hems.api.throttle import locked_out
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


class LoginUser(graphql_jwt.ObtainJSONWebToken):
    # django-graphql-jwt's login, with django-axes behind authenticate(): a locked-out
    # account or address gets TOO_MANY_ATTEMPTS, even with the right password.

    # Unlike the other mutations (hems.api.atomic), a refusal keeps its writes: the
    # failed attempt axes records must outlive it.
    rollback_on_error = False

    class Meta:
        name = "ObtainJSONWebToken"
        description = "Obtain JSON Web Token mutation"

    @classmethod
    def mutate(cls, root, info, **kwargs):
        try:
            return super().mutate(root, info, **kwargs)
        except JSONWebTokenError:
            if locked_out(info.context):
                raise too_many_attempts() from None
            raise


class VerifyToken(graphql_jwt.Verify):
    # A token is valid only while it would authenticate: a well-signed token of a user
    # deleted or deactivated since is refused here as it is on every other operation.

    class Meta:
        name = "Verify"

    @classmethod
    def mutate(cls, root, info, **kwargs):
        result = super().mutate(root, info, **kwargs)
        if get_user_by_payload(result.payload) is None:
            raise JSONWebTokenError("Invalid payload")
        return result


def revoke_rotated(sender, request, refresh_token, **kwargs):
    """A refresh token works once: refreshing revokes it, so a stolen copy dies as soon as
    its owner refreshes (django-graphql-jwt issues a new one but keeps the old valid)."""
    refresh_token.revoke(request)


refresh_token_rotated.connect(revoke_rotated, dispatch_uid="hems.api.accounts.revoke_rotated")


class AccountMutations(graphene.ObjectType):
    login_user = LoginUser.Field(
        description="Exchange a username and password for an access token and a refresh token."
    )
    refresh_token = graphql_jwt.Refresh.Field(description="Exchange a refresh token for a new access token.")
    verify_token = VerifyToken.Field(description="Check an access token and return its payload.")
    revoke_token = graphql_jwt.Revoke.Field(description="Revoke a refresh token (log out).")
    update_home = UpdateHome.Field()
