"""The description of a device kind, which a driver registers."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from hems.sdk.bounds import CEILING
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
    :param prevalence: the share of homes that have a device of this kind, from 0 to 1
        (1.0: every home has one; 0.05: a rare kind). ``manage.py seed`` uses
        it to make demo and benchmark homes look like real ones; ``None`` lets the core
        assume a share by device type. (API 1.2)
    :param codecs: live telemetry formats the kind accepts besides hems's JSON, tried
        first (:class:`hems.sdk.live.Codec`; a vendor's payload). (API 1.3)
    :param commands: the kind's own fields that are sent to a live device as a command
        when a user changes them (a setpoint); ``status`` and a storage kind's ``mode``
        always are. (API 1.3)
    :param example: the attributes of a typical device of the kind (valid ones):
        used for documentation, demo data and the core's kind-agnostic tests.
    :param max_power_w: the most a device of the kind can ever draw or give (W), from
        its configuration: the name of its rating field (``"rated_power_w"``), or a
        function of the batch's ``config`` arrays giving one bound per device
        (``lambda config: config["rated_output_w"] * 1.05``). Storage kinds default to
        the larger of their charge and discharge limits. The tick clips what
        ``simulate()`` returns to it, and the contract kit requires it of every kind.
        (API 1.2)
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
    codecs: tuple[Any, ...] = ()
    commands: tuple[str, ...] = ()
    prevalence: float | None = None
    type_name: str = field(default="")
    max_power_w: str | Callable[[Mapping[str, np.ndarray]], np.ndarray] | None = None

    def __post_init__(self) -> None:
        if not self.type_name:
            object.__setattr__(self, "type_name", camel(self.key))
        if self.prevalence is not None and not 0.0 <= self.prevalence <= 1.0:
            raise ValueError(f"prevalence must be a share of homes between 0 and 1, not {self.prevalence!r}")

    @property
    def declares_max_power(self) -> bool:
        """Whether the kind says how much power its devices can reach (storage: always)."""
        return self.max_power_w is not None or self.device_type == DeviceType.STORAGE

    def power_limit_w(self, config: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """The most each of ``n`` devices with these config arrays can draw or give (W):
        :attr:`max_power_w`, never above the core's ceiling, which is also the limit
        where the kind declares none or a device's value is unknown."""
        if callable(self.max_power_w):
            limit = self.max_power_w(config)
        elif self.max_power_w is not None:
            limit = config[self.max_power_w]
        elif self.device_type == DeviceType.STORAGE:
            limit = np.maximum(config["max_charge_w"], config["max_discharge_w"])
        else:
            limit = CEILING
        limit = np.broadcast_to(np.asarray(limit, dtype=float), (n,))
        return np.clip(np.nan_to_num(limit, nan=CEILING), 0.0, CEILING)
