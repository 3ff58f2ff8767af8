from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Least

from hems.devices.models.device import Device
from hems.sdk.types import StorageMode

# The fastest a storage device may charge or discharge, in capacities per hour: cells
# built for power reach a few C, home and vehicle storage much less.
MAX_C_RATE = 5.0


class StorageDevice(Device):
    """The base of storage kinds: capacity, charge and discharge limits, and mode.

    The level is live state (``DeviceState.level_wh``); ``level_wh`` here reads it
    and, on a new device, sets the initial level. ``SUPPORTED_MODES`` lists the
    modes a kind accepts (AUTO: balance the home).
    """

    SUPPORTED_MODES: tuple[str, ...] = tuple(StorageMode.values)

    # 10 MWh and 10 MW: beyond any home or small business, so no real device is refused.
    capacity_wh = models.FloatField(
        "capacity (Wh)",
        validators=[MinValueValidator(0.001), MaxValueValidator(10_000_000.0)],
        help_text="Usable capacity (Wh).",
    )
    max_charge_w = models.FloatField(
        "max charge (W)",
        validators=[MinValueValidator(0.0), MaxValueValidator(10_000_000.0)],
        help_text=f"Charge power limit (W), at most {MAX_C_RATE:g} times the capacity per hour ({MAX_C_RATE:g}C).",
    )
    max_discharge_w = models.FloatField(
        "max discharge (W)",
        validators=[MinValueValidator(0.0), MaxValueValidator(10_000_000.0)],
        help_text=f"Discharge power limit (W), at most {MAX_C_RATE:g} times the capacity per hour ({MAX_C_RATE:g}C).",
    )
    mode = models.CharField("mode", max_length=16, choices=StorageMode.choices, default=StorageMode.IDLE)

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
            # Divided, not multiplied: a huge capacity must be refused, not overflow float8.
            models.CheckConstraint(
                condition=models.Q(capacity_wh__gte=models.F("max_charge_w") / MAX_C_RATE),
                name="%(app_label)s_%(class)s_max_charge_w_c_rate",
            ),
            models.CheckConstraint(
                condition=models.Q(capacity_wh__gte=models.F("max_discharge_w") / MAX_C_RATE),
                name="%(app_label)s_%(class)s_max_discharge_w_c_rate",
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
        self.check_c_rate()
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

    def check_c_rate(self) -> None:
        if not isinstance(self.capacity_wh, (int, float)) or not self.capacity_wh > 0:
            return  # missing, not a number or not positive: clean_fields() has said so
        limit = self.capacity_wh * MAX_C_RATE
        for name in ("max_charge_w", "max_discharge_w"):
            rate = getattr(self, name)
            if isinstance(rate, (int, float)) and rate > limit:
                raise ValidationError(
                    {
                        name: f"{rate:g} W from {self.capacity_wh:g} Wh is {rate / self.capacity_wh:.4g}C; "
                        f"at most {MAX_C_RATE:g}C ({limit:g} W) is plausible."
                    }
                )

    def initial_state(self) -> dict[str, Any]:
        level = self.__dict__.pop("_pending_level_wh", None)
        return {"level_wh": float(level or 0.0), "capacity_wh": float(self.capacity_wh)}

    def sync_state(self) -> None:
        from hems.devices.models.state import DeviceState

        # A smaller capacity clips the level; the database check holds either way.
        capacity = float(self.capacity_wh)
        DeviceState.objects.filter(pk=self.pk).update(
            capacity_wh=capacity, level_wh=Least("level_wh", models.Value(capacity))
        )
        # The state this instance holds, if loaded, clipped alike: it reads what is stored.
        state = self._state.fields_cache.get("state")
        if state is not None:
            state.capacity_wh = capacity
            if state.level_wh is not None:
                state.level_wh = min(state.level_wh, capacity)
