"""Model fields as GraphQL scalars: how a driver's attributes appear in the API."""

from __future__ import annotations

from functools import cache

import graphene
from django.db import models
from graphene.utils.str_converters import to_camel_case

from hems.api.enums import StorageModeEnum, plain
from hems.sdk.bounds import describe
from hems.sdk.kinds import DeviceKind

SCALARS: list[tuple[type[models.Field], type[graphene.Scalar]]] = [
    (models.BooleanField, graphene.Boolean),
    (models.FloatField, graphene.Float),
    (models.DecimalField, graphene.Decimal),
    (models.IntegerField, graphene.Int),  # and its small, big and positive variants
    (models.DateTimeField, graphene.DateTime),
    (models.DateField, graphene.Date),
    (models.TimeField, graphene.Time),
    (models.CharField, graphene.String),
    (models.TextField, graphene.String),
]


@cache
def choices_enum(type_name: str, field_name: str, choices: tuple[tuple[str, str], ...]) -> type[graphene.Enum]:
    """An enum for a driver's own choice field, named after its kind and field."""
    members = {str(value).upper(): value for value, _ in choices}
    return graphene.Enum(f"{type_name}{to_camel_case(field_name)[0].upper()}{to_camel_case(field_name)[1:]}", members)


def scalar_for(kind: DeviceKind, name: str):
    """The GraphQL type of one of a kind's attributes (``None``: no model field)."""
    if name == "mode":
        return StorageModeEnum
    try:
        field = kind.model._meta.get_field(name)
    except Exception:
        return None
    if field.choices:
        return choices_enum(kind.type_name, name, tuple((str(v), str(label)) for v, label in field.flatchoices))
    for model_field, scalar in SCALARS:
        if isinstance(field, model_field):
            return scalar
    raise TypeError(f"kind {kind.key!r}: no GraphQL type for {type(field).__name__} {name!r}")


def resolver_for(kind: DeviceKind, name: str):
    """How the API reads one of a kind's attributes: ``None`` (the attribute itself),
    or for a choice field its value as the enum knows it, whatever Django holds: a
    ``TextChoices`` member (a default, until the instance is reloaded) or the raw value."""
    try:
        field = kind.model._meta.get_field(name)
    except Exception:
        return None
    if not field.choices:
        return None

    def resolve(device, info):
        value = plain(getattr(device, name))
        return None if value is None else str(value)

    return resolve


def required_on_create(kind: DeviceKind, name: str) -> bool:
    """A field the model cannot fill in by itself: no default, not nullable, not blank."""
    try:
        field = kind.model._meta.get_field(name)
    except Exception:
        return False
    return not (field.has_default() or field.null or field.blank)


def description_of(kind: DeviceKind, name: str) -> str | None:
    """The field's help text, and for a number its upper bound (``hems.sdk.bounds``)."""
    try:
        field = kind.model._meta.get_field(name)
    except Exception:
        return None
    return " ".join(filter(None, [str(field.help_text), describe(field)])) or None


def nullable(kind: DeviceKind, name: str) -> bool:
    try:
        return kind.model._meta.get_field(name).null
    except Exception:
        return True
