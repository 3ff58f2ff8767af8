"""The appliance kinds' own attributes, validated on the model and in the database."""

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from hems.sdk import Device, upper_bound


class Dishwasher(Device):
    """A dishwasher: pre-rinse, a heated main wash, rinses, a heated final rinse and drying.

    It runs its ``cycle`` every day at ``start_time`` when one is set; otherwise the
    household starts it at its usual times, ``cycles_per_week`` times a week on average.
    """

    class Cycle(models.TextChoices):
        ECO = "eco", "Eco 45 °C"
        NORMAL = "normal", "Normal 65 °C"
        INTENSIVE = "intensive", "Intensive 70 °C"
        QUICK = "quick", "Quick 45 °C"

    cycle = models.CharField(
        "cycle",
        max_length=16,
        choices=Cycle.choices,
        default=Cycle.NORMAL,
        help_text="The program it runs (wash temperatures).",
    )
    heater_power_w = models.FloatField(
        "heater power (W)",
        default=1_800.0,
        validators=[MinValueValidator(1_000.0), MaxValueValidator(3_000.0)],
        help_text="Power of the water heater (W); it heats the wash and the final rinse.",
    )
    start_time = models.TimeField(
        "start time (local)",
        null=True,
        blank=True,
        help_text="Start the program every day at this local time; empty: the household's habit.",
    )
    cycles_per_week = models.FloatField(
        "cycles per week",
        default=5.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(7.0)],
        help_text="Without a start time: how many times a week the household runs it (0 to 7).",
    )

    class Meta:
        db_table = "appliances_dishwasher"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(heater_power_w__gte=1_000, heater_power_w__lte=3_000),
                name="appliances_dishwasher_heater_power_w_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cycles_per_week__gte=0, cycles_per_week__lte=7),
                name="appliances_dishwasher_cycles_per_week_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cycle__in=["eco", "normal", "intensive", "quick"]),
                name="appliances_dishwasher_cycle_valid",
            ),
        ]


class WashingMachine(Device):
    """A washing machine: fill, heat, wash, rinse and spin.

    Scheduled like the dishwasher (``start_time``, or ``cycles_per_week`` by habit,
    more often at weekends).
    """

    class Program(models.TextChoices):
        COTTON_40 = "cotton_40", "Cotton 40 °C"
        COTTON_60 = "cotton_60", "Cotton 60 °C"
        ECO_40_60 = "eco_40_60", "Eco 40-60"
        SYNTHETICS = "synthetics", "Synthetics 40 °C"
        QUICK_30 = "quick_30", "Quick 30 °C"

    wash_program = models.CharField(
        "wash program",
        max_length=16,
        choices=Program.choices,
        default=Program.COTTON_40,
        help_text="The program it runs.",
    )
    heater_power_w = models.FloatField(
        "heater power (W)",
        default=2_000.0,
        validators=[MinValueValidator(1_000.0), MaxValueValidator(3_000.0)],
        help_text="Power of the water heater (W).",
    )
    spin_rpm = models.IntegerField(
        "spin speed (rpm)",
        default=1_400,
        validators=[MinValueValidator(400), MaxValueValidator(1_800)],
        help_text="Final spin speed (revolutions per minute, 400 to 1,800).",
    )
    start_time = models.TimeField(
        "start time (local)",
        null=True,
        blank=True,
        help_text="Start the program every day at this local time; empty: the household's habit.",
    )
    cycles_per_week = models.FloatField(
        "cycles per week",
        default=4.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(7.0)],
        help_text="Without a start time: how many times a week the household runs it (0 to 7).",
    )

    class Meta:
        db_table = "appliances_washing_machine"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(heater_power_w__gte=1_000, heater_power_w__lte=3_000),
                name="appliances_washing_machine_heater_power_w_range",
            ),
            models.CheckConstraint(
                condition=models.Q(spin_rpm__gte=400, spin_rpm__lte=1_800),
                name="appliances_washing_machine_spin_rpm_range",
            ),
            models.CheckConstraint(
                condition=models.Q(cycles_per_week__gte=0, cycles_per_week__lte=7),
                name="appliances_washing_machine_cycles_per_week_range",
            ),
            models.CheckConstraint(
                condition=models.Q(wash_program__in=["cotton_40", "cotton_60", "eco_40_60", "synthetics", "quick_30"]),
                name="appliances_washing_machine_wash_program_valid",
            ),
        ]


class Refrigerator(Device):
    """A frost-free refrigerator: a thermostat cycles the compressor, a heater defrosts.

    ``annual_energy_kwh`` is the energy label's figure; with the compressor's power it
    sets the duty cycle at the label's conditions (24 °C around, 4 °C inside).
    """

    compressor_power_w = models.FloatField(
        "compressor power (W)",
        default=90.0,
        validators=[MinValueValidator(20.0), MaxValueValidator(500.0)],
        help_text="Power of the compressor while it runs (W).",
    )
    annual_energy_kwh = models.FloatField(
        "annual energy (kWh)",
        default=150.0,
        validators=[MinValueValidator(20.0), MaxValueValidator(2_000.0)],
        help_text="Energy label: kWh a year at the label's conditions.",
    )
    setpoint_c = models.FloatField(
        "setpoint (°C)",
        default=5.0,
        validators=[MinValueValidator(2.0), MaxValueValidator(8.0)],
        help_text="Temperature inside (2 to 8 °C).",
    )
    defrost_heater_w = models.FloatField(
        "defrost heater (W)",
        default=200.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1_000.0)],
        help_text="Power of the defrost heater (W), 20 minutes twice a day; 0 for a fridge without one.",
    )

    class Meta:
        db_table = "appliances_refrigerator"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(compressor_power_w__gte=20, compressor_power_w__lte=500),
                name="appliances_refrigerator_compressor_power_w_range",
            ),
            models.CheckConstraint(
                condition=models.Q(setpoint_c__gte=2, setpoint_c__lte=8),
                name="appliances_refrigerator_setpoint_c_range",
            ),
            models.CheckConstraint(
                condition=models.Q(defrost_heater_w__gte=0, defrost_heater_w__lte=1_000),
                name="appliances_refrigerator_defrost_heater_w_range",
            ),
            # A compressor running all year cannot use more than its power x 8,760 h
            # (divided, not multiplied: a huge power must be refused, not overflow float8).
            models.CheckConstraint(
                condition=models.Q(annual_energy_kwh__gt=0)
                & models.Q(compressor_power_w__gte=models.F("annual_energy_kwh") / 8.76),
                name="appliances_refrigerator_annual_energy_kwh_within_compressor",
            ),
        ]

    def clean(self):
        super().clean()
        names = ("compressor_power_w", "annual_energy_kwh", "defrost_heater_w")
        values = [getattr(self, name) for name in names]
        if not all(
            isinstance(value, float | int) and upper_bound(self._meta.get_field(name)) >= value
            for name, value in zip(names, values, strict=True)
        ):
            return  # missing, not a number or beyond its bound: clean_fields() has said so
        from hems_appliances.physics import fridge_nominal_duty

        duty = fridge_nominal_duty(self.compressor_power_w, self.annual_energy_kwh, self.defrost_heater_w)
        if not 0.05 <= duty <= 0.8:
            raise ValidationError(
                {
                    "annual_energy_kwh": (
                        f"With a {self.compressor_power_w:g} W compressor, {self.annual_energy_kwh:g} kWh a year "
                        f"means running {duty:.0%} of the time; a real fridge runs 5 % to 80 %."
                    )
                }
            )
