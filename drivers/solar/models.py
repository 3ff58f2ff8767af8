from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hems.sdk import Device

# Rated power per panel area at standard test conditions: commercial modules deliver
# about 150 to 230 W/m2; old thin film a little under 100.
MIN_W_PER_M2, MAX_W_PER_M2 = 40.0, 250.0


class SolarPanel(Device):
    """A photovoltaic array: its DC peak rating and how it faces the sun."""

    rated_power_w = models.FloatField(
        "rated power (W)",
        validators=[MinValueValidator(1.0), MaxValueValidator(1_000_000.0)],
        help_text="DC peak power under standard test conditions (W), i.e. kWp x 1000.",
    )
    area_m2 = models.FloatField(
        "area (m²)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(25_000.0)],
        help_text=f"Panel area (m2), if known: {MIN_W_PER_M2:g} to {MAX_W_PER_M2:g} W of rated power per m2.",
    )
    tilt_deg = models.FloatField(
        "tilt (°)",
        default=30.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(90.0)],
        help_text="Angle from horizontal: 0 lies flat, 90 stands vertical.",
    )
    azimuth_deg = models.FloatField(
        "azimuth (°)",
        default=180.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(360.0)],
        help_text="Compass direction the panel faces: 90 east, 180 south, 270 west.",
    )
    derate = models.FloatField(
        "derate (0.5 to 1)",
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
                condition=models.Q(area_m2__isnull=True)
                # Divided, not multiplied: a huge area must be refused, not overflow float8.
                | models.Q(
                    area_m2__lte=models.F("rated_power_w") / MIN_W_PER_M2,
                    area_m2__gte=models.F("rated_power_w") / MAX_W_PER_M2,
                ),
                name="solar_panel_rated_power_w_per_area_m2",
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
        if not (isinstance(self.area_m2, float | int) and isinstance(self.rated_power_w, float | int)):
            return
        density = self.rated_power_w / self.area_m2 if self.area_m2 > 0 else 0.0
        if density > MAX_W_PER_M2:
            raise ValidationError(
                {
                    "rated_power_w": f"{self.rated_power_w:g} W from {self.area_m2:g} m2 exceeds "
                    f"{MAX_W_PER_M2:g} W/m2, beyond any real panel."
                }
            )
        if 0 < density < MIN_W_PER_M2:
            raise ValidationError(
                {
                    "area_m2": f"{self.area_m2:g} m2 for {self.rated_power_w:g} W is under {MIN_W_PER_M2:g} W/m2, "
                    "below any real panel."
                }
            )
