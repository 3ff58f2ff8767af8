"""Every number of every kind has an upper bound, held by the model, the database and the
API; a home full of the largest devices hems accepts keeps finite stats and history
(issue 11, item 4). Kind-agnostic: the kinds come from the registry."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import connection, models
from django.test.utils import isolate_apps
from graphene.utils.str_converters import to_camel_case

from hems.devices.models import Device, DeviceState
from hems.energy.stats import CONSUMPTION, PRODUCTION, STORAGE, DeviceArrays, home_totals, stats_from_database
from hems.plugins import registry
from hems.sdk import CEILING, DeviceType, State, upper_bound, upper_bounds
from hems.sdk.bounds import bound_constraints, out_of_bounds
from hems.simulation.engine import checked
from hems.testing import run_tick
from hems.testing.api import kind_input
from hems.testing.simulation import config_arrays
from hems.tests.factories import kind_keys, storage_kind_keys

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 6, 22, 12, 0, tzinfo=UTC)
CREATE = "mutation($input: CreateDeviceInput!) { createDevice(input: $input) { device { id } } }"
HUGE = 1.7e308


def model_field(kind, name):
    try:
        return kind.model._meta.get_field(name)
    except Exception:
        return None  # a storage level: a property, bounded by the capacity


@pytest.mark.parametrize("kind_key", kind_keys())
def test_every_number_of_every_kind_has_a_bound_and_a_database_check(kind_key):
    kind = registry().kind(kind_key)
    numbers = [name for name in kind.fields if upper_bound(model_field(kind, name) or models.TextField()) is not None]
    bounds = upper_bounds(kind.model)
    assert set(numbers) <= set(bounds)
    table = kind.model._meta.db_table
    with connection.cursor() as cursor:
        checks = {name for name, c in connection.introspection.get_constraints(cursor, table).items() if c["check"]}
    for name, limit in bounds.items():
        assert 0 < limit <= CEILING, (name, limit)
        assert f"{table}_{name}_max" in checks, f"{table}.{name} has no check constraint holding its bound"


@isolate_apps("hems.devices")
def test_a_number_a_driver_leaves_open_gets_the_core_ceiling():
    class Sample(models.Model):
        energy_wh = models.FloatField()
        count = models.IntegerField()
        rated_w = models.FloatField(validators=[MinValueValidator(0.0)])
        label = models.CharField(max_length=10)

        class Meta:
            app_label = "devices"

    assert upper_bounds(Sample) == {"energy_wh": CEILING, "count": CEILING, "rated_w": CEILING}
    assert [c.name for c in bound_constraints(Sample)] == [
        "devices_sample_energy_wh_max",
        "devices_sample_count_max",
        "devices_sample_rated_w_max",
    ]
    errors = out_of_bounds(Sample(energy_wh=1.1e9, count=5, rated_w=math.nan, label="x"))
    assert errors == {"energy_wh": errors["energy_wh"], "rated_w": "Enter a finite number."}
    assert "1e+09" in errors["energy_wh"]
    assert out_of_bounds(Sample(energy_wh=CEILING, count=1_000_000_000, rated_w=0.0, label="x")) == {}


@pytest.mark.parametrize("kind_key", storage_kind_keys())
def test_huge_storage_numbers_are_refused_and_nothing_is_written(kind_key, user, api):
    """The issue's attack: every number of two storage devices at 1.7e308."""
    huge = {"capacity_wh": HUGE, "level_wh": HUGE, "max_charge_w": HUGE, "max_discharge_w": HUGE}
    for _ in range(2):
        attributes = kind_input(kind_key, {**registry().kind(kind_key).example, **huge})
        error = api.error(CREATE, {"input": {"name": "Huge", to_camel_case(kind_key): attributes}}, user=user)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["field"] == f"{to_camel_case(kind_key)}.capacityWh", error
    assert not Device.objects.exists()
    data = api.data("{ energyStats { currentStorage { totalCapacityWh } netGridFlow } }", user=user)
    assert data["energyStats"] == {"currentStorage": {"totalCapacityWh": 0.0}, "netGridFlow": 0.0}


@pytest.mark.parametrize("kind_key", storage_kind_keys())
def test_a_rate_of_1000_c_is_refused_naming_the_rate(kind_key, user, api):
    thousand_c = {"capacity_wh": 1_000.0, "level_wh": 500.0, "max_charge_w": 1_000_000.0, "max_discharge_w": 1_000.0}
    attributes = {**registry().kind(kind_key).example, **thousand_c, "drain_wh_per_hour": 100.0}
    attributes = {name: value for name, value in attributes.items() if model_field(registry().kind(kind_key), name)
                  or name == "level_wh"}  # fmt: skip
    error = api.error(CREATE, {"input": {"name": "1000C", to_camel_case(kind_key): kind_input(kind_key, attributes)}},
                      user=user)  # fmt: skip
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == f"{to_camel_case(kind_key)}.maxChargeW", error
    assert "1000C" in error["message"]
    assert not Device.objects.exists()


def test_stats_stay_finite_whatever_the_rows_hold():
    """Rows written before the bounds, or by a broken path: the sums never overflow."""
    n = 6
    devices = DeviceArrays(
        home=np.zeros(n, dtype=np.intp),
        device_type=np.array([PRODUCTION, PRODUCTION, CONSUMPTION, CONSUMPTION, STORAGE, STORAGE], dtype=np.int8),
        online=np.ones(n, dtype=bool),
        power_w=np.array([HUGE, math.inf, HUGE, math.nan, HUGE, HUGE]),
        flow_w=np.array([0.0, 0.0, 0.0, 0.0, HUGE, -math.inf]),
        level_wh=np.array([0.0, 0.0, 0.0, 0.0, HUGE, math.nan]),
        capacity_wh=np.array([0.0, 0.0, 0.0, 0.0, HUGE, HUGE]),
        charging_is_consumption=np.zeros(n, dtype=bool),
    )
    totals = home_totals(devices, 1)
    for name in ("production", "consumption", "storage_flow", "capacity_wh", "level_wh", "percentage", "net_grid"):
        assert np.isfinite(getattr(totals, name)).all(), (name, getattr(totals, name))
    assert 0 <= totals.percentage[0] <= 100


def test_the_tick_clips_a_drivers_power_to_the_kinds_declared_bound():
    state = State.empty(2).copy(power_w=np.array([10e6, 100.0]))
    held = checked("any", state, 2, storage=False, capacity=np.zeros(2), limit=np.array([5_000.0, 5_000.0]))
    assert held.power_w.tolist() == [5_000.0, 100.0]


def largest_accepted(kind, owner) -> dict:
    """The kind's example with each number raised to its bound wherever the model accepts
    it (two passes: one bound can make room for another, a maximum for a minimum)."""
    attributes = dict(kind.example)
    bounded = [name for name in kind.fields if model_field(kind, name) and upper_bound(model_field(kind, name))]
    for _ in range(2):
        for name in bounded:
            limit = upper_bound(model_field(kind, name))
            trial = {
                **attributes,
                name: int(limit) if isinstance(model_field(kind, name), models.IntegerField) else limit,
            }
            if kind.device_type == DeviceType.STORAGE:
                trial["level_wh"] = trial["capacity_wh"]
            try:
                kind.model(name="largest", owner=owner, **trial).full_clean()
            except ValidationError:
                continue
            attributes = trial
    return attributes


def finite_numbers(value) -> bool:
    if isinstance(value, dict):
        return all(finite_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_numbers(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def test_a_home_full_of_the_largest_accepted_devices_keeps_finite_stats_and_history(user, api):
    per_kind = 20
    largest = {key: largest_accepted(kind, user) for key, kind in registry().kinds.items()}
    for key, attributes in largest.items():
        kind = registry().kind(key)
        raised = [name for name in attributes if attributes[name] != kind.example.get(name)]
        assert raised, f"{key}: no number could be raised to its bound"
        for i in range(per_kind):
            device = kind.model(name=f"Largest {key} {i}", owner=user, **attributes)
            device.full_clean()
            device.save()
    assert run_tick(NOON) == per_kind * len(largest)

    # Every device at the most its kind declares: full, at full power, charging flat out.
    for key, attributes in largest.items():
        kind = registry().kind(key)
        limit = float(kind.power_limit_w(config_arrays(key, [attributes]), 1)[0])
        values = {"power_w": limit, "available": True}
        if kind.device_type == DeviceType.STORAGE:
            values.update(flow_w=limit, level_wh=attributes["capacity_wh"])
        DeviceState.objects.filter(device__kind=key).update(**values)
    stats = stats_from_database(user.pk, NOON)
    assert all(math.isfinite(v) for v in stats.as_dict().values() if isinstance(v, float)), stats
    assert stats.current_consumption > 0 and stats.current_production > 0

    run_tick(NOON + timedelta(hours=2))  # a two-hour gap, integrated at once
    answer = api.data(
        """query($start: DateTime!, $end: DateTime!) {
          energyStats { currentProduction currentConsumption currentStorageFlow netGridFlow
                        currentStorage { totalCapacityWh currentLevelWh percentage } }
          hours: energyHistory(start: $start, end: $end, interval: HOUR) {
            productionWh consumptionWh storageChargeWh storageDischargeWh gridImportWh gridExportWh }
          days: energyHistory(start: $start, end: $end, interval: DAY) { productionWh consumptionWh gridImportWh }
          allDevices { powerW ... on StorageDevice { levelWh percentage flowW } }
        }""",
        {"start": (NOON - timedelta(days=1)).isoformat(), "end": (NOON + timedelta(days=1)).isoformat()},
        user=user,
    )
    assert finite_numbers(answer), answer
    assert answer["energyStats"]["currentStorage"]["totalCapacityWh"] > 0
    assert sum(bucket["productionWh"] for bucket in answer["hours"]) > 0
