"""The description of a device kind, which a driver registers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hems.sdk.types import DeviceType

if TYPE_CHECKING:
    from django.contrib.admin import ModelAdmin

    from hems.devices.models import Device

KIND_KEY = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def camel(key: str) -> str:
    """``pool_pump`` -> ``PoolPump``."""
    return "".join(part.capitalize() for part in key.split("_"))


@dataclass(frozen=True)
class DeviceKind:
    """One kind of device, as a driver contributes it.

    A driver registers one ``DeviceKind`` per kind from its ``hems_register_kinds``
    hook. The core derives everything else from it: the admin page, the GraphQL
    type and input, the tick's batch for this kind.

    :param key: the kind's identifier, snake_case and unique across all drivers
        (``"pool_pump"``). It is stored in ``Device.kind``, names the GraphQL input
        field (``poolPump``) and, camel-cased, the GraphQL type (``PoolPump``).
    :param label: a human name for admin pages and listings (``"Pool pump"``).
    :param device_type: production, storage or consumption. Storage kinds must use a
        model derived from :class:`~hems.sdk.StorageDevice`.
    :param model: the concrete Django model holding the kind's own fields; a subclass
        of :class:`~hems.sdk.Device` (multi-table inheritance) defined in the driver's
        own app, with its own migrations. Validation lives on the model (field
        validators and ``clean()``), and check constraints in its ``Meta``: the admin
        and the API both call ``full_clean()``, so there is one source of truth.
    :param fields: the model attributes a user sets (API inputs, admin form), in the
        order they should appear. Storage kinds include ``level_wh`` to accept an
        initial level.
    :param admin: a :class:`~hems.sdk.KindAdmin` subclass for the kind's admin page;
        ``None`` gives the default one, which shows ``fields`` and the live state.
    :param simulate: the kind's batch physics, see :class:`hems.hookspecs.Simulate`.
    :param description: one sentence for the API schema and the admin.
    :param charging_is_consumption: for storage kinds whose charging is a load on the
        home rather than storage flow (a vehicle charging is consumption; only its
        discharge to the home counts as storage flow). See the energy rules.
    :param example: the attributes of a typical device of the kind (valid ones):
        used for documentation, demo data and the core's kind-agnostic tests.
    """

    key: str
    label: str
    device_type: DeviceType
    model: type[Device]
    fields: tuple[str, ...]
    admin: type[ModelAdmin] | None = None
    simulate: Callable[..., Any] | None = None
    description: str = ""
    example: Mapping[str, Any] = field(default_factory=dict)
    charging_is_consumption: bool = False
    type_name: str = field(default="")

    def __post_init__(self) -> None:
        if not self.type_name:
            object.__setattr__(self, "type_name", camel(self.key))
