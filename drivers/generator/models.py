from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hems.sdk import Device


class Generator(Device):
    """A generator: steady output near its rating while it runs."""

    rated_output_w = models.FloatField(
        "rated output (W)",
        validators=[MinValueValidator(1.0), MaxValueValidator(1_000_000.0)],
        help_text="Rated electrical output (W).",
    )

    class Meta:
        db_table = "generator"
        constraints = [
            models.CheckConstraint(condition=models.Q(rated_output_w__gt=0), name="generator_rated_output_w_positive"),
        ]
