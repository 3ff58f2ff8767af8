from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Least

from hems.devices.models.device import Device
from hems.sdk.types import StorageMode


class StorageDevice(Device):
    """The base of storage kinds: capacity, charge and discharge limits, and mode.

    The level is live state (``DeviceState.level_wh``); ``level_wh`` here reads it
    and, on a new device, sets the initial level. ``SUPPORTED_MODES`` lists the
    modes a kind accepts (AUTO: balance the home).
    """

    SUPPORTED_MODES: tuple[str, ...] = tuple(StorageMode.values)

    capacity_wh = models.FloatField(validators=[MinValueValidator(0.001)], help_text="Usable capacity (Wh).")
    max_charge_w = models.FloatField(validators=[MinValueValidator(0.0)], help_text="Charge power limit (W).")
    max_discharge_w = models.FloatField(validators=[MinValueValidator(0.0)], help_text="Discharge power limit (W).")
    mode = models.CharField(max_length=16, choices=StorageMode.choices, default=StorageMode.IDLE)

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity_wh__gt=0), name="%(app_label)s_%(class)s_capacity_wh_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(max_charge_w__gte=0), name="%(app_label)s_%(class)s_max_charge_w_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(max_discharge_w__gte=0), name="%(app_label)s_%(class)s_max_discharge_w_non_negative"
            ),
            models.CheckConstraint(
                condition=models.Q(mode__in=StorageMode.values), name="%(app_label)s_%(class)s_mode_valid"
            ),
        ]

    # -- the level: live state, settable once at creation ---------------------

    @property
    def level_wh(self) -> float | None:
        pending = self.__dict__.get("_pending_level_wh")
        if pending is not None:
            return pending
        if self.pk is None:
            return None
        try:
            return self.state.level_wh
        except ObjectDoesNotExist:
            return None

    @level_wh.setter
    def level_wh(self, value: float | None) -> None:
        self.__dict__["_pending_level_wh"] = value

    @property
    def percentage(self) -> float:
        level = self.level_wh or 0.0
        return level / self.capacity_wh * 100.0 if self.capacity_wh else 0.0

    def clean(self) -> None:
        super().clean()
        if self.mode not in self.SUPPORTED_MODES:
            raise ValidationError(
                {"mode": f"A {self.kind} supports the modes {', '.join(self.SUPPORTED_MODES)}, not {self.mode!r}."}
            )
        pending = self.__dict__.get("_pending_level_wh")
        if pending is None:
            return
        if not self._state.adding:
            raise ValidationError(
                {"level_wh": "The level is measured live state: it is set only when the device is created."}
            )
        if pending < 0:
            raise ValidationError({"level_wh": "The level cannot be negative."})
        if self.capacity_wh is not None and pending > self.capacity_wh:
            raise ValidationError(
                {"level_wh": f"The level ({pending:g} Wh) cannot exceed the capacity ({self.capacity_wh:g} Wh)."}
            )

    def initial_state(self) -> dict[str, Any]:
        level = self.__dict__.pop("_pending_level_wh", None)
        return {"level_wh": float(level or 0.0), "capacity_wh": float(self.capacity_wh)}

    def sync_state(self) -> None:
        from hems.devices.models.state import DeviceState

        # A smaller capacity clips the level; the database check holds either way.
        DeviceState.objects.filter(pk=self.pk).update(
            capacity_wh=self.capacity_wh,
            level_wh=Least("level_wh", models.Value(float(self.capacity_wh))),
        )
