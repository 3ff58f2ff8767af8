"""CreateDeviceInput and UpdateDeviceInput, one field per registered kind."""

from __future__ import annotations

import graphene
from graphene.utils.str_converters import to_camel_case

from hems.api.devices.fields import description_of, required_on_create, scalar_for
from hems.api.enums import SourceEnum, StatusEnum
from hems.plugins import Registry
from hems.sdk.types import DeviceType

SOURCE_DESCRIPTION = (
    "SIMULATED (default) or LIVE: a live device reports its own state over MQTT with the "
    "credentials rotateDeviceCredentials gives; its history carries on across a switch."
)

# Storage devices accept an initial level when created; afterwards it is live state.
CREATE_ONLY = {"level_wh"}


def kind_input(kind, update: bool) -> type[graphene.InputObjectType]:
    """The input type of one kind: every declared field, required ones non-null on create."""
    attrs = {}
    for name in kind.fields:
        if update and name in CREATE_ONLY:
            continue
        scalar = scalar_for(kind, name)
        if scalar is None and name == "level_wh" and kind.device_type == DeviceType.STORAGE:
            scalar = graphene.Float
        if scalar is None:
            continue
        required = not update and required_on_create(kind, name)
        description = description_of(kind, name) or ("Initial level (Wh), default 0." if name == "level_wh" else None)
        attrs[name] = graphene.InputField(scalar, required=required, description=description)
    suffix = "UpdateInput" if update else "Input"
    meta = type(
        "Meta",
        (),
        {"name": f"{kind.type_name}{suffix}", "description": f"Attributes of the {kind.label.lower()} kind."},
    )
    return type(f"{kind.type_name}{suffix}", (graphene.InputObjectType,), {"Meta": meta, **attrs})


def device_inputs(registry: Registry) -> tuple[type[graphene.InputObjectType], type[graphene.InputObjectType]]:
    """(CreateDeviceInput, UpdateDeviceInput) with one optional field per kind."""
    names = ", ".join(to_camel_case(key) for key in sorted(registry.kinds))
    create = {
        "name": graphene.InputField(graphene.String, required=True),
        "status": graphene.InputField(StatusEnum, default_value=StatusEnum.ONLINE.value),
        "source": graphene.InputField(
            SourceEnum, default_value=SourceEnum.SIMULATED.value, description=SOURCE_DESCRIPTION
        ),
    }
    update = {
        "name": graphene.InputField(graphene.String),
        "status": graphene.InputField(StatusEnum),
        "source": graphene.InputField(SourceEnum, description=SOURCE_DESCRIPTION),
    }
    for key, kind in sorted(registry.kinds.items()):
        create[key] = graphene.InputField(kind_input(kind, update=False), description=kind.description or None)
        update[key] = graphene.InputField(kind_input(kind, update=True), description=kind.description or None)
    create_meta = type(
        "Meta", (), {"name": "CreateDeviceInput", "description": f"A new device: `name` and exactly one of {names}."}
    )
    update_meta = type(
        "Meta",
        (),
        {
            "name": "UpdateDeviceInput",
            "description": "A partial update: common fields and the device's own kind field.",
        },
    )
    return (
        type("CreateDeviceInput", (graphene.InputObjectType,), {"Meta": create_meta, **create}),
        type("UpdateDeviceInput", (graphene.InputObjectType,), {"Meta": update_meta, **update}),
    )
