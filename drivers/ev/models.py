import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hems.sdk import StorageDevice, StorageMode

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def parse_weekdays(value: str) -> list[int]:
    """``"mon,tue"`` -> ``[0, 1]`` (Monday is 0, as in ``datetime.weekday()``)."""
    names = [part.strip().lower() for part in (value or "").split(",") if part.strip()]
    unknown = [name for name in names if name not in WEEKDAYS]
    if unknown:
        raise ValidationError(f"Unknown weekday(s) {', '.join(unknown)}: use {', '.join(WEEKDAYS)}.")
    if len(set(names)) != len(names):
        raise ValidationError("A weekday is listed twice.")
    return sorted(WEEKDAYS.index(name) for name in names)


def validate_weekdays(value: str) -> None:
    parse_weekdays(value)


class ElectricVehicle(StorageDevice):
    """An EV: storage while plugged in at home, away on its schedule.

    Away from ``leaves_at`` to ``returns_at`` (home's local time) on ``away_days``;
    on return its level is lower by ``drain_wh_per_hour`` for each hour away.
    """

    SUPPORTED_MODES = (StorageMode.CHARGING, StorageMode.DISCHARGING, StorageMode.IDLE)

    mode = models.CharField("mode", max_length=16, choices=StorageMode.choices, default=StorageMode.CHARGING)
    leaves_at = models.TimeField(
        "leaves at (local time)", default=datetime.time(7, 0), help_text="Local time the car leaves home."
    )
    returns_at = models.TimeField(
        "returns at (local time)", default=datetime.time(18, 0), help_text="Local time the car comes back."
    )
    away_days = models.CharField(
        "away days",
        max_length=27,
        default="mon,tue,wed,thu,fri",
        blank=True,
        validators=[validate_weekdays],
        help_text="Days it leaves, comma-separated (mon,tue,...); empty: it never leaves.",
    )
    drain_wh_per_hour = models.FloatField(
        "drain while away (Wh/h)",
        default=3000.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(100_000.0)],
        help_text="Energy used per hour away (Wh/h), taken from the level on return; at most the capacity.",
    )

    class Meta(StorageDevice.Meta):
        db_table = "electric_vehicle"
        constraints = [
            *StorageDevice.Meta.constraints,
            models.CheckConstraint(condition=~models.Q(mode=StorageMode.AUTO), name="electric_vehicle_mode_not_auto"),
            models.CheckConstraint(
                condition=models.Q(drain_wh_per_hour__gte=0), name="electric_vehicle_drain_wh_per_hour_non_negative"
            ),
            # No hour of driving empties more than the whole pack.
            models.CheckConstraint(
                condition=models.Q(drain_wh_per_hour__lte=models.F("capacity_wh")),
                name="electric_vehicle_drain_wh_per_hour_within_capacity_wh",
            ),
        ]

    def clean(self):
        super().clean()
        self.away_days = ",".join(WEEKDAYS[i] for i in parse_weekdays(self.away_days))
        if self.away_days and self.leaves_at == self.returns_at:
            raise ValidationError({"returns_at": "The car must return at another time than it leaves."})
        drain, capacity = self.drain_wh_per_hour, self.capacity_wh
        if isinstance(drain, float | int) and isinstance(capacity, float | int) and drain > capacity:
            raise ValidationError(
                {"drain_wh_per_hour": f"{drain:g} Wh an hour would empty the {capacity:g} Wh pack in under an hour."}
            )

    @property
    def away_weekdays(self) -> list[int]:
        return parse_weekdays(self.away_days)
