from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hems.sdk import Device


def setpoint_field(low: float, high: float, **options) -> models.FloatField:
    """The indoor temperature a unit holds, within the range its kind can reach."""
    message = f"The setpoint must be between {low:g} and {high:g} degrees C."
    return models.FloatField(
        "setpoint (°C)",
        validators=[MinValueValidator(low, message), MaxValueValidator(high, message)],
        help_text=f"Indoor temperature to hold ({low:g} to {high:g} degrees C).",
        **options,
    )


class HvacUnit(Device):
    """What air conditioners and heaters share: a modulating electrical load.

    While running, a unit draws between ``min_modulation_w`` and
    ``max_modulation_w`` (never above ``rated_power_w``), cycling on and off to hold
    ``setpoint_c``.
    """

    rated_power_w = models.FloatField(
        "rated power (W)",
        validators=[MinValueValidator(1.0), MaxValueValidator(100_000.0)],
        help_text="Rated electrical power (W).",
    )
    min_modulation_w = models.FloatField(
        "min modulation (W)",
        validators=[MinValueValidator(0.0), MaxValueValidator(100_000.0)],
        help_text="Lowest electrical power while running (W), at most the maximum.",
    )
    max_modulation_w = models.FloatField(
        "max modulation (W)",
        validators=[MinValueValidator(1.0), MaxValueValidator(100_000.0)],
        help_text="Highest electrical power while running (W), at most rated.",
    )
    setpoint_c = setpoint_field(5.0, 35.0)

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
        numbers = (self.min_modulation_w, self.max_modulation_w, self.rated_power_w)
        if not all(isinstance(value, float | int) for value in numbers):
            return  # clean_fields() has said what is missing
        if self.max_modulation_w > self.rated_power_w:
            raise ValidationError({"max_modulation_w": "The maximum modulation cannot exceed the rated power."})
        if self.min_modulation_w > self.max_modulation_w:
            raise ValidationError({"min_modulation_w": "The minimum modulation cannot exceed the maximum."})


class AirConditioner(HvacUnit):
    """Cools the home; runs harder as it gets hotter outside."""

    setpoint_c = setpoint_field(16.0, 30.0, default=24.0)

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

    setpoint_c = setpoint_field(5.0, 30.0, default=20.0)

    class Meta(HvacUnit.Meta):
        db_table = "heater"
        constraints = [
            *HvacUnit.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(setpoint_c__gte=5, setpoint_c__lte=30), name="heater_setpoint_c_range"
            ),
        ]
