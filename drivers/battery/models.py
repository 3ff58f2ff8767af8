from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hems.sdk import StorageDevice, StorageMode


class Battery(StorageDevice):
    """A stationary battery; in AUTO it balances the home."""

    mode = models.CharField("mode", max_length=16, choices=StorageMode.choices, default=StorageMode.AUTO)
    round_trip_efficiency = models.FloatField(
        "round-trip efficiency (0.5 to 1)",
        default=0.9,
        validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
        help_text="Energy out over energy in, 0.5 to 1.",
    )

    class Meta(StorageDevice.Meta):
        db_table = "battery"
        verbose_name = "battery"
        verbose_name_plural = "batteries"
        constraints = [
            *StorageDevice.Meta.constraints,
            models.CheckConstraint(
                condition=models.Q(round_trip_efficiency__gte=0.5, round_trip_efficiency__lte=1.0),
                name="battery_round_trip_efficiency_range",
            ),
        ]

    def clean(self):
        super().clean()
        if self.max_charge_w == 0 and self.max_discharge_w == 0:
            raise ValidationError({"max_charge_w": "A battery that can neither charge nor discharge does nothing."})
