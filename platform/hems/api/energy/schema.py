"""energyStats and energyHistory."""

from __future__ import annotations

import graphene
from django.conf import settings
from django.utils import timezone

from hems.api.auth import login_required
from hems.api.enums import IntervalEnum, plain
from hems.api.errors import bad_input
from hems.devices.models import Home
from hems.energy import cache
from hems.energy.buckets import bucket_starts, out_of_range
from hems.simulation import history


class StorageStats(graphene.ObjectType):
    total_capacity_wh = graphene.Float(required=True, description="All storage, online or offline (Wh).")
    current_level_wh = graphene.Float(required=True, description="Stored now; offline devices at their last level.")
    percentage = graphene.Float(required=True, description="Level over capacity x 100; 0 without capacity.")

    class Meta:
        name = "StorageStats"


class DeviceEnergyBucket(graphene.ObjectType):
    """Energy through one device over one bucket (Wh), from its hourly history."""

    start = graphene.DateTime(required=True, description="Bucket start, in the home's time zone.")
    energy_wh = graphene.Float(required=True, description="Produced or consumed; for storage, in plus out.")
    charge_wh = graphene.Float(required=True, description="Storage: energy into the device.")
    discharge_wh = graphene.Float(required=True, description="Storage: energy out of the device.")
    level_wh = graphene.Float(
        description="Storage: the level at the end of the bucket (Wh), as recorded at the end of its last hour; "
        "for the bucket under way, the level now. Null for other devices, for buckets still to come, and for "
        "hours recorded before hems kept levels."
    )

    class Meta:
        name = "DeviceEnergyBucket"


class EnergyStats(graphene.ObjectType):
    """The home's energy now (W), by the rules of the energy spec."""

    current_production = graphene.Float(required=True)
    current_consumption = graphene.Float(
        required=True,
        description="Power drawn by the home's online consumption devices, plus the charging of storage kinds "
        "whose charging is a load, such as a vehicle.",
    )
    current_storage = graphene.Field(StorageStats, required=True)
    current_storage_flow = graphene.Float(
        required=True, description="Net power into storage: + charging, - discharging."
    )
    net_grid_flow = graphene.Float(
        required=True,
        description="Power from the grid: consumption - production + storage flow. Positive is import, negative "
        "is export. Storage kinds whose charging is a load, such as a vehicle, count their charging as "
        "consumption, not as storage flow; their discharge to the home is storage flow.",
    )
    timestamp = graphene.DateTime(required=True, description="The instant these figures describe.")

    class Meta:
        name = "EnergyStats"


class EnergyBucket(graphene.ObjectType):
    """Energy over one bucket (Wh)."""

    start = graphene.DateTime(required=True, description="Bucket start, in the home's time zone.")
    production_wh = graphene.Float(required=True)
    consumption_wh = graphene.Float(required=True)
    storage_charge_wh = graphene.Float(required=True)
    storage_discharge_wh = graphene.Float(required=True)
    grid_import_wh = graphene.Float(required=True)
    grid_export_wh = graphene.Float(required=True)

    class Meta:
        name = "EnergyBucket"


def as_graphql(stats) -> EnergyStats:
    return EnergyStats(
        current_production=stats.current_production,
        current_consumption=stats.current_consumption,
        current_storage=StorageStats(
            total_capacity_wh=stats.total_capacity_wh,
            current_level_wh=stats.current_level_wh,
            percentage=stats.percentage,
        ),
        current_storage_flow=stats.current_storage_flow,
        net_grid_flow=stats.net_grid_flow,
        timestamp=stats.timestamp,
    )


class EnergyQueries(graphene.ObjectType):
    energy_stats = graphene.Field(EnergyStats, required=True, description="The caller's home energy now.")
    energy_history = graphene.List(
        graphene.NonNull(EnergyBucket),
        required=True,
        start=graphene.DateTime(required=True),
        end=graphene.DateTime(required=True),
        interval=IntervalEnum(required=True),
        description="Energy per bucket over [start, end), buckets aligned in the home's time zone.",
    )

    @staticmethod
    @login_required
    def resolve_energy_stats(root, info, user):
        return as_graphql(cache.stats_for(user.pk))

    @staticmethod
    @login_required
    def resolve_energy_history(root, info, start, end, interval, user):
        from datetime import UTC

        zone, starts = bucket_range(user, start, end, interval)
        recorded = history.buckets(user.pk, starts[0], end, plain(interval), zone)
        empty = dict.fromkeys(history.ENERGY, 0.0)
        # Keyed by UTC instant: the repeated hour of a fall-back night is its own bucket. Plain
        # dicts: graphene's default resolver reads keys, and hems.api.execution reads them at once.
        return [{"start": bucket, **recorded.get(bucket.astimezone(UTC), empty)} for bucket in starts]


def bucket_range(user, start, end, interval):
    """The home's zone and the bucket starts of [start, end), or BAD_USER_INPUT."""
    for name, value in (("start", start), ("end", end)):
        if timezone.is_naive(value):
            raise bad_input(f"{name} needs a time zone offset (e.g. 2026-06-21T00:00:00Z).", field=name)
        refusal = out_of_range(value)
        if refusal is not None:
            raise bad_input(f"{name} {refusal}.", field=name)
    if end <= start:
        raise bad_input("end must be after start.", field="end")
    zone = Home.of(user).zone
    try:
        starts = bucket_starts(start, end, plain(interval), zone, settings.HEMS_HISTORY_MAX_BUCKETS)
    except ValueError as exc:
        raise bad_input(f"{exc}; ask for a shorter range or a larger interval.", field="interval") from None
    return zone, starts
