from django.db import models


class DeviceState(models.Model):
    """The live state of one device, rewritten by every tick.

    Kept narrow and apart from the configuration so the tick reads and rewrites it
    fast (the table has a fillfactor that leaves room for HOT updates, and no index
    but its primary key). Users never write here; the tick never writes the device
    models.

    ``since`` and ``aux`` carry whatever a driver needs from one tick to the next;
    their meaning is the driver's (a vehicle keeps the time it left home in ``since``).
    ``hour_*`` accumulate the energy of the hour under way. When it ends it is filed
    into ``hems_device_energy``, or kept in ``closed_*`` until the device's filing
    minute (``HEMS_DEVICE_HOUR_FILING_MINUTES``), so that not every device's hour is
    filed by the same tick. A live device's reports set its power, flow
    and level, ``reported_at``, and add to ``pending_*``, which the next tick moves to
    the history (see ``hems.live.ingest``). ``capacity_wh`` mirrors the storage model's capacity, so the database itself
    holds ``0 <= level_wh <= capacity_wh``.
    """

    device = models.OneToOneField(
        "devices.Device", primary_key=True, on_delete=models.CASCADE, related_name="state", db_column="device_id"
    )
    # The device's owner, copied here (it never changes) so the tick reads a shard's
    # states by owner without touching hems_device.
    owner_id = models.BigIntegerField(db_index=True)
    available = models.BooleanField(
        default=True, help_text="False while the driver's physics takes the device away (a vehicle not at home)."
    )
    power_w = models.FloatField(default=0.0, help_text="Instantaneous power, a magnitude (W).")
    flow_w = models.FloatField(
        default=0.0, help_text="Storage only: power into storage, + charging, - discharging (W)."
    )
    level_wh = models.FloatField(null=True, blank=True)
    capacity_wh = models.FloatField(null=True, blank=True)
    since = models.DateTimeField(null=True, blank=True)
    aux = models.FloatField(null=True, blank=True)
    simulated_at = models.DateTimeField(null=True, blank=True)
    # Energy through the device in the (home-local) hour now running; the tick moves
    # it to the device's hourly history when the hour ends.
    hour_start = models.DateTimeField(null=True, blank=True)
    hour_energy_wh = models.FloatField(default=0.0, db_default=0.0)
    hour_charge_wh = models.FloatField(default=0.0, db_default=0.0)
    hour_discharge_wh = models.FloatField(default=0.0, db_default=0.0)
    # The hour that ended and waits for the device's filing minute (NULL: none waits),
    # with the level it ended at; readers of the history count it (history.device_buckets).
    closed_hour_start = models.DateTimeField(null=True, blank=True)
    closed_energy_wh = models.FloatField(null=True, blank=True)
    closed_charge_wh = models.FloatField(null=True, blank=True)
    closed_discharge_wh = models.FloatField(null=True, blank=True)
    closed_level_wh = models.FloatField(null=True, blank=True)
    # Live devices (hems.live): the instant of the last accepted report, and the energy
    # integrated from reports since the last tick (the tick takes it and resets it).
    reported_at = models.DateTimeField(null=True, blank=True)
    pending_energy_wh = models.FloatField(default=0.0, db_default=0.0)
    pending_charge_wh = models.FloatField(default=0.0, db_default=0.0)
    pending_discharge_wh = models.FloatField(default=0.0, db_default=0.0)

    class Meta:
        db_table = "hems_device_state"
        constraints = [
            models.CheckConstraint(condition=models.Q(power_w__gte=0), name="hems_device_state_power_w_non_negative"),
            models.CheckConstraint(
                condition=(
                    models.Q(level_wh__isnull=True, capacity_wh__isnull=True)
                    | models.Q(capacity_wh__gt=0, level_wh__gte=0, level_wh__lte=models.F("capacity_wh"))
                ),
                name="hems_device_state_level_wh_within_capacity",
            ),
        ]

    def __str__(self) -> str:
        return f"state of device {self.device_id}"
