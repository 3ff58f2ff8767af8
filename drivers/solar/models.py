from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hems.sdk import Device


class SolarPanel(Device):
    """A photovoltaic array: its DC peak rating and how it faces the sun."""

    rated_power_w = models.FloatField(
        validators=[MinValueValidator(1.0), MaxValueValidator(1_000_000.0)],
        help_text="DC peak power under standard test conditions (W), i.e. kWp x 1000.",
    )
    area_m2 = models.FloatField(
        null=True, blank=True, validators=[MinValueValidator(0.1)], help_text="Panel area (m2), if known."
    )
    tilt_deg = models.FloatField(
        default=30.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(90.0)],
        help_text="Angle from horizontal: 0 lies flat, 90 stands vertical.",
    )
    azimuth_deg = models.FloatField(
        default=180.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(360.0)],
        help_text="Compass direction the panel faces: 90 east, 180 south, 270 west.",
    )
    derate = models.FloatField(
        default=0.86,
        validators=[MinValueValidator(0.5), MaxValueValidator(1.0)],
        help_text="System efficiency after inverter, wiring, soiling and heat losses (0.5 to 1).",
    )

    class Meta:
        db_table = "solar_panel"
        constraints = [
            models.CheckConstraint(condition=models.Q(rated_power_w__gt=0), name="solar_panel_rated_power_w_positive"),
            models.CheckConstraint(
                condition=models.Q(area_m2__isnull=True) | models.Q(area_m2__gt=0), name="solar_panel_area_m2_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(tilt_deg__gte=0, tilt_deg__lte=90), name="solar_panel_tilt_deg_range"
            ),
            models.CheckConstraint(
                condition=models.Q(azimuth_deg__gte=0, azimuth_deg__lte=360), name="solar_panel_azimuth_deg_range"
            ),
            models.CheckConstraint(condition=models.Q(derate__gte=0.5, derate__lte=1), name="solar_panel_derate_range"),
        ]

    def clean(self):
        super().clean()
        # Commercial modules deliver at most about 250 W/m2 at standard test conditions.
        if self.area_m2 and self.rated_power_w and self.rated_power_w > self.area_m2 * 250:
            raise ValidationError(
                {
                    "rated_power_w": f"{self.rated_power_w:g} W from {self.area_m2:g} m2 exceeds 250 W/m2, "
                    "beyond any real panel."
                }
            )
