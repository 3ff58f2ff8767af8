from django.db import models


class TickShard(models.Model):
    """One shard of one tick, applied: written in the same transaction as the shard's
    states, so a duplicated or retried shard finds it and applies nothing twice."""

    instant = models.DateTimeField()
    shard = models.IntegerField()
    devices = models.IntegerField(default=0)
    finished_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "hems_tick_shard"
        constraints = [models.UniqueConstraint(fields=["instant", "shard"], name="hems_tick_shard_once")]

    def __str__(self) -> str:
        return f"tick {self.instant:%Y-%m-%d %H:%M} shard {self.shard}"


class TickedOwners(models.Model):
    """The latest tick applied to a range of owners: every device of theirs that tick
    found was simulated at ``instant`` or later.

    The tick rewrites only the state rows whose state changed (most devices idle through
    most minutes), so a row's own ``simulated_at`` is when its state last changed by a
    tick; the instant it was last simulated is the later of that and this (``ticked``).
    One row per range the fan-out used (a shard's owners), moved forward in the
    shard's transaction."""

    owner_lo = models.BigIntegerField()
    owner_hi = models.BigIntegerField()  # exclusive
    instant = models.DateTimeField()

    class Meta:
        db_table = "hems_ticked_owners"
        constraints = [models.UniqueConstraint(fields=["owner_lo", "owner_hi"], name="hems_ticked_owners_range")]

    def __str__(self) -> str:
        return f"owners {self.owner_lo} to {self.owner_hi - 1} ticked at {self.instant:%Y-%m-%d %H:%M}"


class HomeEnergy(models.Model):
    """A home's energy over one tick (Wh), the source of energyHistory.

    On PostgreSQL the table is partitioned by day on ``period_start`` (see
    ``hems.simulation.history``); old partitions are dropped after the retention.
    ``period_start`` is the start of the span the tick covered (the previous tick,
    or the real gap after an outage), so buckets attribute energy to when it flowed.
    """

    pk = models.CompositePrimaryKey("owner_id", "period_start")
    owner_id = models.BigIntegerField()
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    production_wh = models.FloatField()
    consumption_wh = models.FloatField()
    storage_charge_wh = models.FloatField()
    storage_discharge_wh = models.FloatField()
    grid_import_wh = models.FloatField()
    grid_export_wh = models.FloatField()

    class Meta:
        managed = False  # created by migration 0002, partitioned on PostgreSQL
        db_table = "hems_home_energy"

    def __str__(self) -> str:
        return f"home {self.owner_id} {self.period_start:%Y-%m-%d %H:%M}"
