"""The Device interface and one concrete type per registered kind."""

from __future__ import annotations

from contextlib import nullcontext

import graphene
from django.db.models import QuerySet
from graphene.utils.str_converters import to_camel_case

from hems.api.devices.fields import description_of, nullable, resolver_for, scalar_for
from hems.api.enums import CommandStateEnum, DeviceTypeEnum, SourceEnum, StatusEnum, StorageModeEnum, plain
from hems.devices.kind_admin import live_power
from hems.devices.liveness import device_reason
from hems.plugins import Registry
from hems.sdk.types import DeviceType, Status

# Attributes the interfaces already carry; a kind's type adds the rest of its fields.
STORAGE_FIELDS = {"capacity_wh", "level_wh", "mode"}


def effective_status(device) -> str:
    """ONLINE when the device acts now (:func:`hems.devices.liveness.device_reason`)."""
    return Status.ONLINE.value if device_reason(device) is None else Status.OFFLINE.value


class DeviceCommandType(graphene.ObjectType):
    """A change sent to a live device as a command. The configured value is the device's
    own field either way; ``state`` says whether the device has applied it."""

    field = graphene.String(required=True, description="The field changed, in the API's camelCase.")
    value = graphene.JSONString(required=True, description="The value sent.")
    sent_at = graphene.DateTime(required=True)
    state = graphene.Field(CommandStateEnum, required=True)

    class Meta:
        name = "DeviceCommand"

    @staticmethod
    def resolve_field(command, info):
        return to_camel_case(command.field)

    @staticmethod
    def resolve_state(command, info):
        from hems.live.commands import state_of

        return state_of(command)


class DeviceInterface(graphene.Interface):
    """A device of any kind. Query a kind's own fields with a fragment, for example
    ``... on <Kind> { <field> }``."""

    id = graphene.ID(required=True)
    name = graphene.String(required=True)
    kind = graphene.String(
        required=True, description="The device kind's key; camel-cased, it names the kind's input field."
    )
    device_type = graphene.Field(DeviceTypeEnum, required=True)
    status = graphene.Field(
        StatusEnum,
        required=True,
        description="ONLINE when configured online and able to act now (a vehicle away from home is OFFLINE).",
    )
    power_w = graphene.Float(required=True, description="Current power in W, never negative; 0 when offline.")
    source = graphene.Field(
        SourceEnum,
        required=True,
        description="SIMULATED: hems's simulation computes its state. LIVE: the device reports it over MQTT.",
    )
    last_report_at = graphene.DateTime(
        description="A live device: the instant of its last accepted report (null until the first)."
    )
    pending_command = graphene.Field(
        DeviceCommandType,
        description="A live device: the last command sent to it that it has not yet confirmed by reporting the "
        "new value (PENDING), or did not within the timeout (FAILED); null when none. A listing reads it for all "
        "its live devices in one query.",
    )
    status_reason = graphene.String(
        description="Why the device is OFFLINE, for people (for example 'set offline by the user', "
        "'away on its schedule', 'no report since 2026-12-01T10:02:00Z', 'reported offline on its availability "
        "topic'); null when ONLINE."
    )
    last_simulated_at = graphene.DateTime(description="When the tick last computed this device's state.")
    created_at = graphene.DateTime(required=True)
    updated_at = graphene.DateTime(required=True)
    energy_history = graphene.List(
        graphene.NonNull("hems.api.energy.schema.DeviceEnergyBucket"),
        required=True,
        start=graphene.DateTime(required=True),
        end=graphene.DateTime(required=True),
        interval=graphene.Argument("hems.api.enums.IntervalEnum", required=True),
        description="This device's energy per bucket over [start, end) (hourly resolution), for its chart, and "
        "a storage device's level at each bucket's end. "
        "Two queries per device: ask for it on one device, not across allDevices.",
    )

    class Meta:
        name = "Device"

    @classmethod
    def resolve_type(cls, instance, info):
        return info.schema.get_type(getattr(instance, "_graphql_type", None) or "UnavailableDevice").graphene_type


class DeviceResolvers:
    """Resolvers of the Device interface's fields, mixed into every device type."""

    @staticmethod
    def resolve_id(device, info):
        return device.pk

    @staticmethod
    def resolve_status(device, info):
        return effective_status(device)

    @staticmethod
    def resolve_device_type(device, info):
        return plain(device.device_type)

    @staticmethod
    def resolve_source(device, info):
        return plain(device.source)

    @staticmethod
    def resolve_last_report_at(device, info):
        state = getattr(device, "state", None)
        return state.reported_at if state is not None else None

    @staticmethod
    def resolve_status_reason(device, info):
        return device_reason(device)

    @staticmethod
    def resolve_pending_command(device, info):
        from hems.live.commands import unresolved

        return unresolved(device)

    @staticmethod
    def resolve_power_w(device, info):
        return live_power(device)

    @staticmethod
    def resolve_energy_history(device, info, start, end, interval):
        from datetime import UTC

        from hems.api.energy.schema import bucket_range
        from hems.simulation import history

        zone, starts = bucket_range(device.owner, start, end, interval)
        state = getattr(device, "state", None)
        hour_start = state.hour_start if state is not None else None
        # With the hours the state row holds (the one under way and one waiting to be filed).
        recorded = history.device_buckets(device.pk, starts[0], end, plain(interval), zone, current_hour=hour_start)
        empty = history.empty_device_bucket()
        # Plain dicts: graphene's default resolver reads keys, and hems.api.execution reads them at once.
        return [{"start": bucket, **recorded.get(bucket.astimezone(UTC), empty)} for bucket in starts]

    @staticmethod
    def resolve_last_simulated_at(device, info):
        from hems.simulation import ticked

        state = getattr(device, "state", None)
        if state is None or state.simulated_at is None:
            return None
        # The owner's latest tick, read once per request (a listing is one owner's).
        ticks = info.context.__dict__.setdefault("_hems_last_ticks", {})
        if device.owner_id not in ticks:
            ticks[device.owner_id] = ticked.last_tick(device.owner_id)
        return ticked.last_simulated(state.simulated_at, ticks[device.owner_id])


class StorageInterface(graphene.Interface):
    """A storage device: its capacity, level, requested mode and actual flow."""

    capacity_wh = graphene.Float(required=True, description="Usable capacity (Wh).")
    level_wh = graphene.Float(required=True, description="Stored energy now (Wh); an offline device at its last level.")
    percentage = graphene.Float(required=True, description="Level as a percentage of capacity.")
    mode = graphene.Field(StorageModeEnum, required=True, description="What the user asked the device to do.")
    flow_w = graphene.Float(
        required=True,
        description="Power actually flowing now (W): + charging, - discharging, 0 when idle, full, empty or offline.",
    )

    class Meta:
        name = "StorageDevice"


class StorageResolvers(DeviceResolvers):
    @staticmethod
    def resolve_mode(device, info):
        return plain(device.mode)

    @staticmethod
    def resolve_level_wh(device, info):
        return device.level_wh or 0.0

    @staticmethod
    def resolve_flow_w(device, info):
        state = getattr(device, "state", None)
        if state is None or effective_status(device) != Status.ONLINE:
            return 0.0
        return state.flow_w


class UnavailableDevice(DeviceResolvers, graphene.ObjectType):
    """A device whose driver is not installed: its common fields only."""

    class Meta:
        interfaces = (DeviceInterface,)


def kind_type(kind) -> type[graphene.ObjectType]:
    """The GraphQL object type of one kind, from its declared fields."""
    storage = kind.device_type == DeviceType.STORAGE
    attrs = {}
    for name in kind.fields:
        if storage and name in STORAGE_FIELDS:
            continue
        scalar = scalar_for(kind, name)
        if scalar is not None:
            attrs[name] = graphene.Field(
                scalar,
                required=not nullable(kind, name),
                description=description_of(kind, name),
                resolver=resolver_for(kind, name),
            )
    meta = type(
        "Meta",
        (),
        {
            "name": kind.type_name,
            "description": kind.description or kind.label,
            "interfaces": (DeviceInterface, StorageInterface) if storage else (DeviceInterface,),
        },
    )
    bases = (StorageResolvers if storage else DeviceResolvers, graphene.ObjectType)
    return type(kind.type_name, bases, {"Meta": meta, **attrs})


def kind_types(registry: Registry) -> dict[str, type[graphene.ObjectType]]:
    return {key: kind_type(kind) for key, kind in registry.kinds.items()}


def for_graphql(device):
    """The device as its kind's model instance, tagged with its GraphQL type name."""
    from hems.plugins import UnknownKind, registry

    specific = device.specific
    try:
        kind = registry().kind(device.kind)
    except UnknownKind:
        kind = None
    specific._graphql_type = kind.type_name if kind is not None and type(specific) is kind.model else None
    return specific


def for_graphql_list(devices) -> list:
    """A listing's devices as :func:`for_graphql`, each live device's pending command read
    for all of them in one query (``pendingCommand`` costs no query per device)."""
    from hems.api.devices.plan import joins_as_written
    from hems.live.commands import prefetch_unresolved

    # A queryset not yet run is run here, planned as written; a list is already loaded.
    planned = joins_as_written() if isinstance(devices, QuerySet) else nullcontext()
    with planned:
        devices = list(devices)
        listed = [for_graphql(device) for device in devices]
    for device, specific in zip(devices, listed, strict=True):
        without_back_references(device, specific)
    prefetch_unresolved(listed)
    return listed


def without_back_references(device, specific) -> None:
    """Drop the links a listing's rows hold back to one another, so that its instances
    are freed as soon as the answer is sent.

    ``select_related`` links each device both ways with its kind's row and its state. As
    cycles, a listing's 150 instances stay for the garbage collector, and each of its
    generation-1 passes walks a dozen listings' rows: 5 to 12 ms added to one ``allDevices``
    in twelve (BENCHMARKS, "The API's garbage"). Nothing reads these links back: the
    listed instance keeps its state, and a kind's row its parent row.
    """
    cache = device._state.fields_cache
    # A device listed as itself (its driver gone) keeps its state; its old kind's row goes.
    kept = {"state": cache["state"]} if specific is device and "state" in cache else {}
    cache.clear()
    cache.update(kept)
    state = specific._state.fields_cache.get("state")
    if state is not None:
        state._state.fields_cache.pop("device", None)
