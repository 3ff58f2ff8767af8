from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hems.sdk import Device


class HvacUnit(Device):
    """What air conditioners and heaters share: a modulating electrical load.

    While running, a unit draws between ``min_modulation_w`` and
    ``max_modulation_w`` (never above ``rated_power_w``), cycling on and off to hold
    ``setpoint_c``.
    """

    SETPOINT_RANGE = (5.0, 35.0)

    rated_power_w = models.FloatField(
        validators=[MinValueValidator(1.0), MaxValueValidator(100_000.0)], help_text="Rated electrical power (W)."
    )
    min_modulation_w = models.FloatField(
        validators=[MinValueValidator(0.0)], help_text="Lowest electrical power while running (W)."
    )
    max_modulation_w = models.FloatField(
        validators=[MinValueValidator(1.0)], help_text="Highest electrical power while running (W), at most rated."
    )
    setpoint_c = models.FloatField(help_text="Indoor temperature to hold (degrees C).")

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rated_power_w__gt=0), name="%(app_label)s_%(class)s_rated_power_w_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(min_modulation_w__gte=0),
                name="%(app_label)s_%(class)s_min_modulation_w_non_negative",
            ),
            models.CheckConstraint(
                condition=models.Q(min_modulation_w__lte=models.F("max_modulation_w")),
                name="%(app_label)s_%(class)s_min_modulation_w_le_max_modulation_w",
            ),
            models.CheckConstraint(
                condition=models.Q(max_modulation_w__lte=models.F("rated_power_w")),
                name="%(app_label)s_%(class)s_max_modulation_w_le_rated_power_w",
            ),
        ]

    def clean(self):
        super().clean()
        low, high = self.SETPOINT_RANGE
        if self.setpoint_c is not None and not low <= self.setpoint_c <= high:
            raise ValidationError({"setpoint_c": f"The setpoint must be between {low:g} and {high:g} degrees C."})
        if None in (self.min_modulation_w, self.max_modulation_w, self.rated_power_w):
            return
        if self.max_modulation_w > self.rated_power_w:
            raise ValidationError({"max_modulation_w": "The maximum modulation cannot exceed the rated power."})
        if self.min_modulation_w > self.max_modulation_w:
            raise ValidationError({"min_modulation_w": "The minimum modulation cannot exceed the maximum."})


class AirConditioner(HvacUnit):
    """Cools the home; runs harder as it gets hotter outside."""

    SETPOINT_RANGE = (16.0, 30.0)
    setpoint_c = models.FloatField(default=24.0, help_text="Indoor temperature to hold (16 to 30 degrees C).")

    class Meta(HvacUnit.Meta):
        db_table = "air_conditioner"
        constraints = [
            *HvacUnit.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(setpoint_c__gte=16, setpoint_c__lte=30), name="air_conditioner_setpoint_c_range"
            ),
        ]


class Heater(HvacUnit):
    """Heats the home; runs harder as it gets colder outside."""

    SETPOINT_RANGE = (5.0, 30.0)
    setpoint_c = models.FloatField(default=20.0, help_text="Indoor temperature to hold (5 to 30 degrees C).")

    class Meta(HvacUnit.Meta):
        db_table = "heater"
        constraints = [
            *HvacUnit.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(setpoint_c__gte=5, setpoint_c__lte=30), name="heater_setpoint_c_range"
            ),
        ]
