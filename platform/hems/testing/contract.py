"""The driver contract: subclass :class:`DriverContract` in a driver's tests."""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from typing import Any, ClassVar

import numpy as np
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from freezegun import freeze_time
from graphene.utils.str_converters import to_camel_case

from hems.devices.models import Device, DeviceState, StorageDevice
from hems.plugins import registry
from hems.sdk import DeviceType, DriverAppConfig
from hems.sdk.bounds import upper_bound
from hems.sdk.types import Source, Status, StorageMode
from hems.testing.api import kind_fragment, kind_input
from hems.testing.live_contract import LiveContract
from hems.testing.simulation import config_arrays, energy_over, make_batch, run_day

SUMMER_DAY = datetime(2026, 6, 22, 0, 0, tzinfo=UTC)  # a Monday
WINTER_DAY = datetime(2026, 1, 12, 0, 0, tzinfo=UTC)  # a Monday
# Another hemisphere and a local New Year while it is still the old year in UTC.
NEW_YEAR_EVE = datetime(2026, 12, 31, 1, 0, tzinfo=UTC)
SYDNEY = {"latitude": -33.87, "longitude": 151.21, "time_zone": "Australia/Sydney"}
# Conservation over gaps: windows (their end, where) that cross sunrise and sunset,
# a commuter's departure and return, midday, a winter afternoon, a southern dawn.
GAP_MINUTES = 120
GAP_WINDOWS = (
    (SUMMER_DAY + timedelta(hours=6), {}),
    (SUMMER_DAY + timedelta(hours=11), {}),
    (SUMMER_DAY + timedelta(hours=16, minutes=30), {}),
    (SUMMER_DAY + timedelta(hours=20), {}),
    (WINTER_DAY + timedelta(hours=7), {}),
    (WINTER_DAY + timedelta(hours=13), {}),
    (NEW_YEAR_EVE + timedelta(hours=18), SYDNEY),
)
# Energy over a gap may differ from the same minutes ticked one by one by this share
# of it, plus this share of the device's power bound held over the gap (the core
# steps a gap in 5-minute sub-steps: a curve like the sun's is sampled more coarsely).
GAP_RELATIVE = 0.05
GAP_ABSOLUTE = 0.01

CREATE = """
mutation Create($input: CreateDeviceInput!) {
  createDevice(input: $input) { device { id kind deviceType status } }
}
"""
UPDATE = """
mutation Update($id: ID!, $input: UpdateDeviceInput!) {
  updateDevice(id: $id, input: $input) { device { id name status powerW } }
}
"""


@dataclass(frozen=True)
class Invalid:
    """Attributes (merged over the kind's valid ones) that must be refused.

    :param changes: the attributes to change.
    :param field: the field the error must name.
    :param db: whether the database must refuse them too, when the model's
        validation is bypassed (False for rules no check constraint can hold).
    """

    changes: dict[str, Any]
    field: str
    db: bool = True
    id: str = ""

    def __str__(self) -> str:
        return self.id or ",".join(f"{k}={v!r}" for k, v in self.changes.items())


def build(kind_key: str, owner, attributes: dict[str, Any], name: str = "Contract device") -> Device:
    """An unsaved device of the kind with the given attributes."""
    model = registry().kind(kind_key).model
    return model(name=name, owner=owner, **attributes)


def assert_batches_equal(batch, before) -> None:
    """simulate() must not write into the batch it is given (the tick reuses it)."""
    for f in fields(batch.state):
        assert np.array_equal(getattr(batch.state, f.name), getattr(before.state, f.name), equal_nan=True), (
            f"simulate() changed batch.state.{f.name}"
        )
    for name, values in batch.config.items():
        assert np.array_equal(values, before.config[name], equal_nan=values.dtype.kind == "f"), (
            f"simulate() changed batch.config[{name!r}]"
        )
    for name in ("elapsed_h", "demand_w", "ids"):
        assert np.array_equal(getattr(batch, name), getattr(before, name)), f"simulate() changed batch.{name}"


def form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, (time, date)):
        return value.isoformat()
    return str(value)


@pytest.mark.django_db
class DriverContract(LiveContract):
    """What every driver must do; subclass it and set the class attributes.

    :cvar driver: the driver's entry point name.
    :cvar valid: for each kind the driver registers, attributes that are valid.
    :cvar invalid: for each kind, :class:`Invalid` cases that must be refused.
    """

    driver: ClassVar[str]
    valid: ClassVar[dict[str, dict[str, Any]]]
    invalid: ClassVar[dict[str, list[Invalid]]] = {}

    # -- registration ----------------------------------------------------------

    def test_driver_loads(self):
        driver = registry().drivers.get(self.driver)
        assert driver is not None, f"no driver {self.driver!r} was discovered"
        assert driver.status == "loaded", f"driver {self.driver!r} is {driver.status}: {driver.reason}"

    def test_registers_exactly_the_declared_kinds(self):
        kinds = {kind.key for kind in registry().drivers[self.driver].kinds}
        assert kinds == set(self.valid), "the contract's `valid` must cover every kind the driver registers"

    def test_app_config_isolates_failures(self):
        from django.apps import apps

        model = registry().kind(next(iter(self.valid))).model
        assert isinstance(apps.get_app_config(model._meta.app_label), DriverAppConfig)

    def test_migrations_are_complete(self):
        label = registry().kind(next(iter(self.valid))).model._meta.app_label
        out = StringIO()
        try:
            call_command("makemigrations", label, check=True, dry_run=True, stdout=out, stderr=out)
        except SystemExit:
            pytest.fail(f"the models of {label!r} have changes without a migration:\n{out.getvalue()}")

    def test_kind_table_is_migrated(self, kind_key):
        model = registry().kind(kind_key).model
        assert model._meta.db_table in connection.introspection.table_names()

    # -- attributes ------------------------------------------------------------

    def test_example_is_valid(self, kind_key, user):
        kind = registry().kind(kind_key)
        assert kind.example, "a kind should give an example device for docs, demos and generic tests"
        build(kind_key, user, dict(kind.example)).full_clean()

    def test_valid_attributes_round_trip(self, kind_key, user):
        kind = registry().kind(kind_key)
        device = build(kind_key, user, self.valid[kind_key])
        device.full_clean()
        device.save()
        assert (device.kind, device.device_type) == (kind.key, kind.device_type)
        with CaptureQueriesContext(connection) as queries:
            listed = [d.specific for d in Device.objects.with_kinds().filter(owner=user)]
            loaded = listed[0]
            values = {name: getattr(loaded, name) for name in kind.fields}
            state = loaded.state
        assert len(queries) == 1, "listing devices with their kind fields and state must take one query"
        assert type(loaded) is kind.model
        for name, value in self.valid[kind_key].items():
            assert values[name] == pytest.approx(value) if isinstance(value, float) else values[name] == value, name
        assert state.power_w == 0 and state.simulated_at is None
        if kind.device_type == DeviceType.STORAGE:
            assert state.capacity_wh == loaded.capacity_wh

    def test_invalid_attributes_refused_by_the_model(self, kind_key, case, user):
        device = build(kind_key, user, {**self.valid[kind_key], **case.changes})
        with pytest.raises(ValidationError) as refused:
            device.full_clean()
        assert case.field in refused.value.message_dict, (
            f"{case} was refused, but not on {case.field!r}: {refused.value.message_dict}"
        )
        assert not Device.objects.exists(), "a refused device must not be written"

    def test_invalid_attributes_refused_by_the_database(self, kind_key, case, user):
        if not case.db:
            pytest.skip("a rule the database cannot hold")
        device = build(kind_key, user, {**self.valid[kind_key], **case.changes})
        with pytest.raises(IntegrityError) as refused, transaction.atomic():
            device.save()  # no full_clean: the database alone must refuse it
        assert case.field in str(refused.value), f"the database error should name {case.field!r}: {refused.value}"
        assert not Device.objects.exists()

    def test_numbers_beyond_their_bound_are_refused(self, kind_key, user, api):
        """Every numeric field has an upper bound (``hems.sdk.bounds``): above it, and at
        1.7e308, the model, the database and the API refuse the device, naming the field."""
        kind = registry().kind(kind_key)
        cases = []
        for name in kind.fields:
            try:
                field = kind.model._meta.get_field(name)
            except Exception:
                continue  # not a model field (a storage level, bounded by the capacity)
            limit = upper_bound(field)
            if limit is not None:
                huge = [int(limit) + 1] if isinstance(field, models.IntegerField) else [limit * 2, 1.7e308]
                cases += [(name, value) for value in huge]
        for name, value in cases:
            attributes = {**self.valid[kind_key], name: value}
            with pytest.raises(ValidationError) as refused:
                build(kind_key, user, attributes).full_clean()
            assert name in refused.value.message_dict, f"{name}={value!r}: {refused.value.message_dict}"
            with pytest.raises(IntegrityError) as refused, transaction.atomic():
                build(kind_key, user, attributes).save()  # no full_clean: the database alone
            assert name in str(refused.value), f"{name}={value!r}: the database error should name it: {refused.value}"
            variables = {"input": {"name": "Huge", to_camel_case(kind_key): kind_input(kind_key, attributes)}}
            error = api.error(CREATE, variables, user=user)
            assert error["extensions"]["code"] == "BAD_USER_INPUT", error
            named = {key.split(".")[-1] for key in error["extensions"].get("errors", {})}
            assert to_camel_case(name) in named, f"{name}={value!r}: {error}"
        assert not Device.objects.exists(), "a refused device must not be written"

    def test_updating_storage_capacity_keeps_the_level_valid(self, kind_key, user):
        kind = registry().kind(kind_key)
        if not issubclass(kind.model, StorageDevice):
            pytest.skip("not a storage kind")
        attributes = dict(self.valid[kind_key])
        device = build(kind_key, user, {**attributes, "level_wh": attributes["capacity_wh"]})
        device.full_clean()
        device.save()
        device.capacity_wh = attributes["capacity_wh"] / 2
        device.full_clean()
        device.save()
        state = DeviceState.objects.get(pk=device.pk)
        assert state.capacity_wh == device.capacity_wh
        assert state.level_wh == device.capacity_wh

    # -- admin -----------------------------------------------------------------

    def test_admin_pages(self, kind_key, user, admin_client):
        model = registry().kind(kind_key).model
        device = build(kind_key, user, self.valid[kind_key])
        device.full_clean()
        device.save()
        opts = model._meta
        for url in (
            reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
            reverse(f"admin:{opts.app_label}_{opts.model_name}_add"),
            reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[device.pk]),
            reverse("admin:devices_device_changelist") + f"?kind={kind_key}",
        ):
            response = admin_client.get(url)
            assert response.status_code == 200, url
        listing = admin_client.get(reverse("admin:devices_device_changelist")).content.decode()
        assert device.name in listing

    def test_admin_creates_a_device(self, kind_key, user, admin_client):
        model = registry().kind(kind_key).model
        opts = model._meta
        data = {"name": "Made in the admin", "owner": user.pk, "status": Status.ONLINE, "source": Source.SIMULATED}
        data.update({name: form_value(value) for name, value in self.valid[kind_key].items()})
        response = admin_client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"), data)
        errors = response.context["adminform"].form.errors if response.status_code == 200 else None
        assert response.status_code == 302, f"the admin refused valid attributes: {errors}"
        device = Device.objects.get(name="Made in the admin")
        assert device.kind == kind_key and device.owner == user
        assert DeviceState.objects.filter(pk=device.pk).exists()

    # -- API -------------------------------------------------------------------

    def test_created_and_read_back_through_the_api(self, kind_key, user, api):
        attributes = kind_input(kind_key, self.valid[kind_key])
        variables = {"input": {"name": "Through the API", to_camel_case(kind_key): attributes}}
        created = api.data(CREATE, variables, user=user)["createDevice"]["device"]
        assert created["kind"] == kind_key
        assert created["deviceType"] == registry().kind(kind_key).device_type.upper()
        query = f"query One($id: ID!) {{ device(id: $id) {{ id name {kind_fragment(kind_key)} }} }}"
        read = api.data(query, {"id": created["id"]}, user=user)["device"]
        for name, value in attributes.items():
            assert read[name] == value, name

    def test_created_with_its_defaults_and_read_back_through_the_api(self, kind_key, user, api):
        """Given only the fields the model cannot default, a device is created, and both
        the mutation's answer and a later read show every declared field as stored."""
        from hems.api.devices.fields import required_on_create

        kind = registry().kind(kind_key)
        given = {name: value for name, value in self.valid[kind_key].items() if required_on_create(kind, name)}
        variables = {"input": {"name": "Defaults only", to_camel_case(kind_key): kind_input(kind_key, given)}}
        selection = f"id {kind_fragment(kind_key)}"
        create = "mutation Create($input: CreateDeviceInput!) { createDevice(input: $input) { device { SELECTION } } }"
        created = api.data(create.replace("SELECTION", selection), variables, user=user)["createDevice"]["device"]
        one = "query One($id: ID!) { device(id: $id) { SELECTION } }".replace("SELECTION", selection)
        assert created == api.data(one, {"id": created["id"]}, user=user)["device"], (
            "the mutation must answer what a later read finds stored"
        )
        expected = dict(kind_input(kind_key, given))
        for name in kind.fields:
            try:
                field = kind.model._meta.get_field(name)
            except Exception:
                continue  # not a model field (a storage level): read above, its value the kind's own
            if name not in given and field.has_default():
                expected.update(kind_input(kind_key, {name: field.get_default()}))
        for name, value in expected.items():
            assert created[name] == value, f"{name}: {created[name]!r}, expected {value!r}"

    def test_invalid_attributes_refused_by_the_api(self, kind_key, case, user, api):
        attributes = kind_input(kind_key, {**self.valid[kind_key], **case.changes})
        variables = {"input": {"name": "Refused", to_camel_case(kind_key): attributes}}
        error = api.error(CREATE, variables, user=user)
        assert error["extensions"]["code"] == "BAD_USER_INPUT", error
        assert error["extensions"]["field"].split(".")[-1] == to_camel_case(case.field), error
        assert not Device.objects.exists(), "a refused mutation must write nothing"

    def test_partial_update_through_the_api(self, kind_key, user, api):
        device = build(kind_key, user, self.valid[kind_key], name="Before")
        device.full_clean()
        device.save()
        updated = api.data(UPDATE, {"id": device.pk, "input": {"name": "After"}}, user=user)["updateDevice"]
        assert updated["device"]["name"] == "After" and updated["device"]["status"] == "ONLINE"
        updated = api.data(UPDATE, {"id": device.pk, "input": {"status": "OFFLINE"}}, user=user)["updateDevice"]
        assert updated["device"]["status"] == "OFFLINE" and updated["device"]["powerW"] == 0
        reloaded = registry().kind(kind_key).model.objects.get(pk=device.pk)
        for name, value in self.valid[kind_key].items():
            assert getattr(reloaded, name) == value, f"{name} changed although the update did not name it"

    # -- simulation ------------------------------------------------------------

    def _attributes(self, kind_key):
        return [dict(self.valid[kind_key]), dict(registry().kind(kind_key).example)]

    def test_simulate_handles_an_empty_batch(self, kind_key):
        kind = registry().kind(kind_key)
        assert kind.simulate is not None, "a kind needs its batch physics (DeviceKind.simulate)"
        assert len(kind.simulate(make_batch(kind_key, SUMMER_DAY, []))) == 0

    def max_power_w(self, kind_key: str, attributes: dict[str, Any]) -> float | None:
        """The most a device with these attributes may ever draw or give (W), or None.

        The kind's own declaration (``DeviceKind.max_power_w``; storage kinds: their rate
        limits), which the tick also clips to. The kit requires one; override this only
        to hold a driver's tests to a tighter figure.
        """
        kind = registry().kind(kind_key)
        if not kind.declares_max_power:
            return None
        return float(kind.power_limit_w(config_arrays(kind_key, [attributes]), 1)[0])

    def _check_power_and_signs(self, kind, attributes, state, when):
        """Power within the kind's declared bound; a producer never consumes, a consumer
        never produces, storage flows the way its mode says."""
        limits = [self.max_power_w(kind.key, a) for a in attributes]
        assert None not in limits, (
            f"kind {kind.key!r} declares no upper bound of its power: set DeviceKind.max_power_w "
            "(its rating field, or a function of its config)"
        )
        power, flow = np.asarray(state.power_w, dtype=float), np.asarray(state.flow_w, dtype=float)
        # No tolerance: the tick clips and warns on any excess, even an ulp of round-off.
        over = ~(power <= np.array(limits))
        assert not over.any(), (
            f"{when}: device(s) {np.flatnonzero(over).tolist()} give {power[over].tolist()} W, above the kind's "
            f"declared bound of {np.array(limits)[over].tolist()} W"
        )
        if kind.device_type == DeviceType.STORAGE:
            default = kind.model._meta.get_field("mode").get_default()
            modes = [str(getattr(mode, "value", mode)) for mode in (a.get("mode", default) for a in attributes)]
            for i, mode in enumerate(modes):
                wrong = {
                    StorageMode.CHARGING: flow[i] < -1e-9,
                    StorageMode.DISCHARGING: flow[i] > 1e-9,
                    StorageMode.IDLE: flow[i] != 0,
                }.get(mode, False)
                assert not wrong, f"{when}: device {i} in mode {mode} has a storage flow of {flow[i]} W"
            return
        producer = kind.device_type == DeviceType.PRODUCTION
        role = "a production kind never consumes" if producer else "a consumption kind never produces"
        assert (power >= 0).all(), f"{when}: {role}, but power_w is {power[power < 0].tolist()}"
        assert (flow == 0).all(), f"{when}: {role} nor stores, but flow_w is {flow[flow != 0].tolist()}"

    def _check_bounds(self, kind, attributes, state, when):
        n = len(attributes)
        assert len(state) == n and all(len(getattr(state, f.name)) == n for f in fields(state)), (
            f"{when}: simulate() must return one value per device for every State field"
        )
        self._check_power_and_signs(kind, attributes, state, when)
        assert np.isfinite(state.power_w).all() and (state.power_w >= 0).all(), f"{when}: power {state.power_w}"
        if kind.device_type == DeviceType.STORAGE:
            capacity = np.array([a["capacity_wh"] for a in attributes])
            max_in = np.array([a["max_charge_w"] for a in attributes])
            max_out = np.array([a["max_discharge_w"] for a in attributes])
            assert ((state.level_wh >= 0) & (state.level_wh <= capacity + 1e-6)).all(), when
            assert (state.flow_w <= max_in + 1e-6).all() and (-state.flow_w <= max_out + 1e-6).all(), when
            assert np.allclose(state.power_w, np.abs(state.flow_w)), when
        else:
            assert (state.flow_w == 0).all(), f"{when}: only storage kinds have a storage flow"

    def test_simulation_stays_within_physical_bounds_over_a_day(self, kind_key):
        kind = registry().kind(kind_key)
        attributes = self._attributes(kind_key)
        for start, where in ((SUMMER_DAY, {}), (WINTER_DAY, {}), (NEW_YEAR_EVE, SYDNEY)):
            for instant, state in run_day(kind_key, attributes, start, **where):
                self._check_bounds(kind, attributes, state, f"{instant} {where}")

    def test_simulation_stays_within_bounds_after_a_long_gap(self, kind_key):
        """After a missed hour or two the tick passes the whole gap as ``elapsed_h``."""
        kind = registry().kind(kind_key)
        attributes = self._attributes(kind_key)
        for hour in (0, 7, 13, 20):
            instant = SUMMER_DAY + timedelta(hours=hour)
            state = kind.simulate(make_batch(kind_key, instant, attributes, elapsed_h=2.0))
            self._check_bounds(kind, attributes, state, f"{instant} after 2 h")

    def test_energy_over_a_gap_equals_one_minute_ticks(self, kind_key):
        """After missed ticks, the tick covering the gap books (within tolerance) the
        energy the same minutes would have booked one by one, and storage ends at the
        same level: a device charges only while it could, a duty cycle is not taken as
        on (or off) for the whole gap, the sun is not taken at one instant for hours."""
        simulate = registry().kind(kind_key).simulate
        self.assert_gap_conserves_energy(kind_key, simulate)

    def assert_gap_conserves_energy(self, kind_key, simulate):
        kind = registry().kind(kind_key)
        attributes = self._attributes(kind_key)
        hours = GAP_MINUTES / 60
        limits = np.array([self.max_power_w(kind_key, a) or np.nan for a in attributes], dtype=float)
        for end, where in GAP_WINDOWS:
            start = end - timedelta(minutes=GAP_MINUTES)
            before = simulate(make_batch(kind_key, start, attributes, **where))  # a state as a tick leaves it
            ticked, ticked_state = energy_over(
                kind_key, attributes, end, GAP_MINUTES, every_minute=True, state=before, simulate=simulate, **where
            )
            gapped, gapped_state = energy_over(
                kind_key, attributes, end, GAP_MINUTES, every_minute=False, state=before, simulate=simulate, **where
            )
            bound = np.where(np.isnan(limits), np.abs(ticked_state.power_w), limits)
            for name, expected in ticked.items():
                allowed = GAP_RELATIVE * expected + GAP_ABSOLUTE * bound * hours + 1e-6
                wrong = np.abs(gapped[name] - expected) > allowed
                assert not wrong.any(), (
                    f"{kind_key}: {name} over a {GAP_MINUTES}-minute gap ending {end} {where}: "
                    f"{gapped[name].round(1).tolist()} Wh in one tick, {expected.round(1).tolist()} Wh in "
                    f"one-minute ticks (allowed {allowed.round(1).tolist()})"
                )
            if kind.device_type == DeviceType.STORAGE:
                capacity = np.array([a["capacity_wh"] for a in attributes])
                assert np.allclose(gapped_state.level_wh, ticked_state.level_wh, rtol=0, atol=0.01 * capacity.max()), (
                    f"{kind_key}: level after a gap ending {end}: {gapped_state.level_wh.tolist()} Wh, after "
                    f"one-minute ticks {ticked_state.level_wh.tolist()} Wh"
                )

    def test_simulation_is_deterministic(self, kind_key):
        """The same tick over the same states gives the same result, to the bit, whatever
        the wall clock says, and without changing the batch it was given."""
        simulate = registry().kind(kind_key).simulate
        attributes = self._attributes(kind_key)
        results = []
        for now in ("2001-02-03 04:05:06", "2031-07-08 09:10:11"):
            batch = make_batch(kind_key, SUMMER_DAY + timedelta(hours=12), attributes)
            before = deepcopy(batch)
            with freeze_time(now):
                results.append(simulate(batch))
            assert_batches_equal(batch, before)
        first, second = results
        for f in fields(first):
            assert np.array_equal(getattr(first, f.name), getattr(second, f.name), equal_nan=True), f.name

    def test_a_batch_gives_what_each_device_gives_alone(self, kind_key):
        simulate = registry().kind(kind_key).simulate
        attributes = self._attributes(kind_key)
        # Many devices, both attribute sets interleaved, in no particular order of ids.
        ids = [911, 12, 5_000_017, 11, 64, 3]
        many = [attributes[i % len(attributes)] for i in range(len(ids))]
        for hour in (3, 9, 13, 19):
            instant = SUMMER_DAY + timedelta(hours=hour, minutes=17)
            together = simulate(make_batch(kind_key, instant, many, ids=ids))
            for i, (device_id, attrs) in enumerate(zip(ids, many, strict=True)):
                alone = simulate(make_batch(kind_key, instant, [attrs], ids=[device_id]))
                for f in fields(alone):
                    mine = getattr(together, f.name)[i : i + 1]
                    assert np.allclose(mine, getattr(alone, f.name), equal_nan=True), (hour, device_id, f.name)

    def test_simulate_does_no_queries(self, kind_key, django_assert_num_queries):
        simulate = registry().kind(kind_key).simulate
        batch = make_batch(kind_key, SUMMER_DAY + timedelta(hours=12), self._attributes(kind_key))
        with django_assert_num_queries(0):
            simulate(batch)

    def test_the_ticks_queries_do_not_grow_with_devices(self, kind_key, user, monkeypatch):
        from hems.simulation import loader, stored
        from hems.simulation.tick import run_shard

        # Every simulated row rewritten, as when every device's state changes: the most a
        # tick does (one that rewrites none skips the write's statements).
        monkeypatch.setattr(stored, "must_write", lambda result, *args: result.due.copy())

        def tick_queries(minute, cold):
            if cold:
                loader.forget()  # the shard's configuration read whole, as after a change
            with CaptureQueriesContext(connection) as queries:
                # Mid-hour: no tick here files a finished device hour.
                report = run_shard(SUMMER_DAY + timedelta(hours=12, minutes=20 + minute), 0)
            assert report.applied
            return len(queries), report.devices

        device = build(kind_key, user, self.valid[kind_key], name="first")
        device.full_clean()
        device.save()
        tick_queries(-1, cold=True)  # warm up: the day's history partitions are created once
        one = tick_queries(0, cold=True), tick_queries(1, cold=False)
        for i in range(199):
            build(kind_key, user, self.valid[kind_key], name=f"more {i}").save()
        many = tick_queries(2, cold=True), tick_queries(3, cold=False)
        assert [count for _, count in one] == [1, 1] and [count for _, count in many] == [200, 200]
        assert [q for q, _ in one] == [q for q, _ in many], (
            f"the tick must use a constant number of queries: {one} {many}"
        )
