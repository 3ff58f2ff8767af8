"""Demo homes in bulk: users, homes at real places, and devices of the installed kinds,
each kind in about as many homes as its ``DeviceKind.prevalence`` says.

On PostgreSQL rows go in with COPY (ids reserved from the sequences first), so ten
thousand homes of fifty devices take seconds, not hours. Elsewhere (the embedded
SQLite mode) devices are saved one by one through the models.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.utils import timezone

from hems.devices.models import Device, DeviceState, Home
from hems.plugins import registry
from hems.sdk.kinds import DeviceKind
from hems.sdk.types import DeviceType

# (name, latitude, longitude, IANA zone): a spread of climates and time zones.
PLACES = [
    ("Berlin", 52.52, 13.40, "Europe/Berlin"), ("Madrid", 40.42, -3.70, "Europe/Madrid"),
    ("London", 51.51, -0.13, "Europe/London"), ("Athens", 37.98, 23.73, "Europe/Athens"),
    ("New York", 40.71, -74.01, "America/New_York"), ("Phoenix", 33.45, -112.07, "America/Phoenix"),
    ("Sydney", -33.87, 151.21, "Australia/Sydney"), ("Delhi", 28.61, 77.21, "Asia/Kolkata"),
    ("Tokyo", 35.68, 139.69, "Asia/Tokyo"), ("Sao Paulo", -23.55, -46.63, "America/Sao_Paulo"),
    ("Cape Town", -33.92, 18.42, "Africa/Johannesburg"), ("Oslo", 59.91, 10.75, "Europe/Oslo"),
]  # fmt: skip

# The share of homes with a device of a kind that does not say (DeviceKind.prevalence).
DEFAULT_PREVALENCE = {DeviceType.CONSUMPTION: 0.6, DeviceType.PRODUCTION: 0.5, DeviceType.STORAGE: 0.3}


@dataclass
class SeedReport:
    users: int
    devices: int
    first: str = ""  # the first and last usernames created
    last: str = ""


def scaled(example: dict, factor: float) -> dict:
    """A kind's example with its powers and energies (``*_w``, ``*_wh``) scaled: the
    relations between them (level within capacity, minimum below maximum) hold."""
    return {
        name: round(value * factor, 1) if isinstance(value, float) and name.endswith(("_w", "_wh")) else value
        for name, value in example.items()
    }


def seedable_kinds() -> list[DeviceKind]:
    """The installed kinds with an example to copy, in a stable order."""
    return [kind for kind in sorted(registry().kinds.values(), key=lambda k: k.key) if kind.example]


def prevalence(kind: DeviceKind) -> float:
    return kind.prevalence if kind.prevalence is not None else DEFAULT_PREVALENCE[DeviceType(kind.device_type)]


def check_examples() -> None:
    """Scaled examples must still be valid: validate the extremes once per kind."""
    for kind in seedable_kinds():
        for factor in (0.6, 1.4):
            kind.model(name="check", owner_id=0, **scaled(dict(kind.example), factor)).clean_fields(exclude=["owner"])


def plan_home(rng: random.Random, devices: int) -> list[tuple[DeviceKind, dict]]:
    """A home like real ones: each kind with the chance its ``prevalence`` gives (a
    common kind in most homes, a rare one in few); a home smaller than that keeps its
    most common kinds, and a larger one gets more loads, the common ones most often."""
    kinds = seedable_kinds()
    if not kinds or devices <= 0:
        return []
    owned = [kind for kind in kinds if rng.random() < prevalence(kind)]
    if len(owned) > devices:
        owned = sorted(owned, key=prevalence, reverse=True)[:devices]
    loads = [kind for kind in kinds if kind.device_type == DeviceType.CONSUMPTION] or kinds
    weights = [prevalence(kind) for kind in loads]
    owned += rng.choices(loads, weights if any(weights) else None, k=devices - len(owned))
    return [(kind, scaled(dict(kind.example), rng.uniform(0.6, 1.4))) for kind in owned]


def next_number(prefix: str) -> int:
    """The first free N for ``<prefix>N``: after the highest taken, so names never collide
    (a ``demo`` user of ``bin/hems`` takes no number; ``demo7`` does)."""
    taken = get_user_model().objects.filter(username__regex=rf"^{re.escape(prefix)}[0-9]+$")
    return max((int(name[len(prefix) :]) for name in taken.values_list("username", flat=True)), default=0) + 1


def seed(
    homes: int,
    devices_per_home: int,
    *,
    prefix: str = "demo",
    password: str = "demo-password-1",
    seed_value: int = 1,
    progress: Callable[[int], None] | None = None,
    chunk: int = 500,
) -> SeedReport:
    """Create ``homes`` users with a home and ``devices_per_home`` devices each."""
    check_examples()
    rng = random.Random(seed_value)
    User = get_user_model()
    hashed = make_password(password)  # hashing once keeps ten thousand users fast
    start = next_number(prefix) - 1
    created_devices = 0
    for first in range(0, homes, chunk):
        size = min(chunk, homes - first)
        with transaction.atomic():
            users = User.objects.bulk_create(
                [User(username=f"{prefix}{start + first + i + 1}", password=hashed) for i in range(size)]
            )
            homes_rows = []
            for user in users:
                _, lat, lon, zone = rng.choice(PLACES)
                homes_rows.append(
                    Home(
                        owner=user,
                        latitude=lat + rng.uniform(-0.5, 0.5),
                        longitude=lon + rng.uniform(-0.5, 0.5),
                        time_zone=zone,
                    )  # fmt: skip
                )
            Home.objects.bulk_create(homes_rows)
            plans = [(user, plan_home(rng, devices_per_home)) for user in users]
            created_devices += insert_devices(plans)
        if progress:
            progress(size)
    if connection.vendor == "postgresql":
        # Fresh planner statistics: without them the first queries over a large
        # bulk-loaded table choose poor plans.
        with connection.cursor() as cursor:
            tables = [Device._meta.db_table, DeviceState._meta.db_table, Home._meta.db_table]
            tables += sorted({kind.model._meta.db_table for kind in registry().kinds.values()})
            cursor.execute("ANALYZE " + ", ".join(connection.ops.quote_name(t) for t in tables))
    return SeedReport(
        users=homes, devices=created_devices, first=f"{prefix}{start + 1}", last=f"{prefix}{start + homes}"
    )


def insert_devices(plans: list[tuple[object, list[tuple[DeviceKind, dict]]]]) -> int:
    rows = [(user, kind, attrs) for user, plan in plans for kind, attrs in plan]
    if connection.vendor != "postgresql":
        for n, (user, kind, attrs) in enumerate(rows):
            kind.model(name=f"{kind.label} {n + 1}", owner=user, **attrs).save()
        return len(rows)
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('hems_device', 'id')) FROM generate_series(1, %s)", [len(rows)]
        )
        ids = [row[0] for row in cursor.fetchall()]
        base = ((i, f"{kind.label} {n + 1}", kind.key, str(kind.device_type), "online", user.pk, now, now)
                for n, (i, (user, kind, _)) in enumerate(zip(ids, rows, strict=True)))  # fmt: skip
        base_columns = ["id", "name", "kind", "device_type", "status", "owner_id", "created_at", "updated_at"]
        copy_rows(cursor, Device._meta.db_table, base_columns, base)
        owner_of = {i: user.pk for i, (user, _, _) in zip(ids, rows, strict=True)}
        by_kind: dict[str, list[tuple[int, dict]]] = {}
        for i, (_, kind, attrs) in zip(ids, rows, strict=True):
            by_kind.setdefault(kind.key, []).append((i, attrs))
        states = []
        for key, items in by_kind.items():
            kind = registry().kind(key)
            columns, values = kind_columns(kind, items)
            copy_rows(cursor, kind.model._meta.db_table, columns, values)
            storage = kind.device_type == DeviceType.STORAGE
            for i, attrs in items:
                level = float(attrs.get("level_wh", 0.0)) if storage else None
                capacity = float(attrs["capacity_wh"]) if storage else None
                states.append((i, owner_of[i], True, 0.0, 0.0, level, capacity))
        state_columns = ["device_id", "owner_id", "available", "power_w", "flow_w", "level_wh", "capacity_wh"]
        copy_rows(cursor, DeviceState._meta.db_table, state_columns, iter(states))
    return len(rows)


def kind_columns(kind: DeviceKind, items: list[tuple[int, dict]]) -> tuple[list[str], Iterator[tuple]]:
    """The kind table's columns and rows: the pointer, then every concrete field with
    the example's value or the field's default."""
    model = kind.model
    own = [f for f in model._meta.local_concrete_fields if not (f.primary_key or isinstance(f, models.OneToOneField))]
    columns = [model._meta.pk.column, *(f.column for f in own)]

    def rows():
        for i, attrs in items:
            yield (i, *(attrs[f.name] if f.name in attrs else f.get_default() for f in own))

    return columns, rows()


def copy_rows(cursor, table: str, columns: list[str], rows: Iterator[tuple]) -> None:
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
