"""A kind's choice fields read as their enum whatever Django holds: the ``TextChoices``
member a default leaves on an unsaved or just-saved instance, or the raw stored value."""

from __future__ import annotations

from enum import Enum

import pytest
from graphene.utils.str_converters import to_camel_case
from graphql import get_named_type

from hems.api.schema import schema
from hems.plugins import registry
from hems.tests.factories import kind_keys


def choice_fields(kind_key: str) -> list:
    model = registry().kind(kind_key).model
    return [
        field
        for name in registry().kind(kind_key).fields
        if (field := next((f for f in model._meta.concrete_fields if f.name == name), None)) is not None
        and field.choices
    ]


def members(field) -> list:
    """The field's choices as Django may hold them: its TextChoices members and raw values."""
    default = field.get_default()
    choices_class = type(default) if isinstance(default, Enum) else None
    raw = [value for value, _ in field.flatchoices]
    return raw + ([choices_class(value) for value in raw] if choices_class else [])


KINDS_WITH_CHOICES = [key for key in kind_keys() if choice_fields(key)]


def test_some_installed_kind_has_a_choice_field_defaulting_to_a_member():
    assert any(isinstance(field.get_default(), Enum) for key in KINDS_WITH_CHOICES for field in choice_fields(key))


@pytest.mark.parametrize("kind_key", KINDS_WITH_CHOICES)
def test_choice_fields_serialize_members_and_raw_values(kind_key):
    kind = registry().kind(kind_key)
    graphql_type = schema.graphql_schema.get_type(kind.type_name)
    for field in choice_fields(kind_key):
        graphql_field = graphql_type.fields[to_camel_case(field.name)]
        enum = get_named_type(graphql_field.type)
        for value in members(field):
            device = kind.model(**{field.name: value})
            resolve = graphql_field.resolve or (lambda obj, info, name=field.name: getattr(obj, name))
            assert enum.serialize(resolve(device, None)) == str(getattr(value, "value", value)).upper(), (
                field.name,
                value,
            )
