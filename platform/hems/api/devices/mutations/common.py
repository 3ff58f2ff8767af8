"""What the device mutations share: picking the kind field, applying attributes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from graphene.utils.str_converters import to_camel_case

from hems.api.enums import plain
from hems.api.errors import bad_input, from_validation_error
from hems.plugins import registry


def kind_fields_in(data: dict[str, Any]) -> list[str]:
    """The kind keys the input names (graphene keeps only the fields that were sent)."""
    return [key for key in registry().kinds if key in data and data[key] is not None]


def attributes(data: dict[str, Any] | None) -> dict[str, Any]:
    return {name: plain(value) for name, value in (data or {}).items()}


def save(device, kind_key: str, update_fields: list[str] | None = None) -> None:
    """Validate with the model (the one source of truth) and write, or BAD_USER_INPUT."""
    try:
        device.full_clean()
    except ValidationError as exc:
        raise from_validation_error(exc, prefix=f"{to_camel_case(kind_key)}.") from None
    device.save(update_fields=update_fields)


def exactly_one_kind(data: dict[str, Any]) -> str:
    keys = kind_fields_in(data)
    if len(keys) == 1:
        return keys[0]
    names = ", ".join(to_camel_case(k) for k in sorted(registry().kinds))
    if not keys:
        raise bad_input(f"Give exactly one kind field ({names}); none was given.", field="kind")
    given = ", ".join(to_camel_case(k) for k in keys)
    raise bad_input(f"Give exactly one kind field; {given} were given.", field=to_camel_case(keys[1]))
