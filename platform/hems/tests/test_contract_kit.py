"""The contract kit catches a driver whose power breaks its declared bound or whose
signs are wrong (issue 11, item 15), or whose codec reads fields out of junk.

Each test registers a deliberately broken temporary kind (an installed kind's model
and fields, with broken physics or no declared bound), runs the kit's own simulation
check on it, and expects the kit to fail it with a message saying why. The kinds are
chosen by device type from the registry, so the core names none.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hems.plugins import Driver, registry
from hems.sdk import Codec, DeviceType, RefusedPayload, StorageMode
from hems.testing.contract import DriverContract

BROKEN = "broken_kit_driver"


def installed_kind(device_type: str, rated: bool = False):
    """An installed kind of this device type (with its power bound named by a rating field)."""
    for kind in sorted(registry().kinds.values(), key=lambda k: k.key):
        if kind.device_type == device_type and (not rated or isinstance(kind.max_power_w, str)):
            return kind
    pytest.skip(f"no installed {device_type} kind{' with a rating field' if rated else ''}")


def physics(power_w: float, flow_w: float = 0.0):
    """A simulate() that answers the same power and flow for every device, every minute."""

    def simulate(batch):
        n = len(batch)
        return batch.state.copy(
            power_w=np.full(n, power_w), flow_w=np.full(n, flow_w), available=np.ones(n, dtype=bool)
        )

    return simulate


@pytest.fixture
def temporary_kind():
    """Register a kind for the test, as a driver would; unregister it afterwards."""
    reg = registry()
    added = []

    def register(kind):
        reg.kinds[kind.key] = kind
        reg.drivers[BROKEN] = Driver(BROKEN, "0.0.1", "tests.broken", "loaded", kinds=[kind])
        added.append(kind.key)
        return kind

    yield register
    for key in added:
        reg.kinds.pop(key, None)
    reg.drivers.pop(BROKEN, None)


def kit_for(kind, attributes):
    class Kit(DriverContract):  # not collected: its name does not start with Test
        driver = BROKEN
        valid = {kind.key: attributes}

    return Kit()


def run_kit_simulation(kind, attributes):
    kit_for(kind, attributes).test_simulation_stays_within_physical_bounds_over_a_day(kind.key)


def test_a_5_kw_rating_producing_10_mw_fails_the_kit(temporary_kind):
    base = installed_kind(DeviceType.PRODUCTION, rated=True)
    turbine = temporary_kind(replace(base, key="broken_turbine", type_name="BrokenTurbine", simulate=physics(10e6)))
    five_kw = {**base.example, base.max_power_w: 5_000.0}
    with pytest.raises(
        AssertionError, match=r"give \[10000000\.0, 10000000\.0\] W, above the kind's declared bound of \[5000\.0, "
    ):
        run_kit_simulation(turbine, five_kw)


def test_the_same_kind_with_its_own_physics_passes(temporary_kind):
    """The control: the harness above fails the broken physics, not every kind."""
    base = installed_kind(DeviceType.PRODUCTION, rated=True)
    honest = temporary_kind(replace(base, key="honest_copy", type_name="HonestCopy"))
    run_kit_simulation(honest, {**base.example, base.max_power_w: 5_000.0})


def test_a_kind_that_declares_no_power_bound_fails_the_kit(temporary_kind):
    base = installed_kind(DeviceType.CONSUMPTION)
    unbounded = temporary_kind(replace(base, key="unbounded", type_name="Unbounded", max_power_w=None))
    with pytest.raises(AssertionError, match="declares no upper bound of its power: set DeviceKind.max_power_w"):
        run_kit_simulation(unbounded, dict(base.example))


def test_a_production_kind_that_consumes_fails_the_kit(temporary_kind):
    # A driver that signs its power (negative for a draw) rather than giving a magnitude.
    base = installed_kind(DeviceType.PRODUCTION)
    producer = temporary_kind(
        replace(base, key="drawing_producer", type_name="DrawingProducer", simulate=physics(-500))
    )
    with pytest.raises(AssertionError, match=r"a production kind never consumes, but power_w is \[-500\.0, -500\.0\]"):
        run_kit_simulation(producer, dict(base.example))


def test_a_consumption_kind_that_produces_fails_the_kit(temporary_kind):
    base = installed_kind(DeviceType.CONSUMPTION)
    consumer = temporary_kind(replace(base, key="giving_consumer", type_name="GivingConsumer", simulate=physics(-300)))
    with pytest.raises(AssertionError, match=r"a consumption kind never produces, but power_w is \[-300\.0, -300\.0\]"):
        run_kit_simulation(consumer, dict(base.example))


def test_a_consumption_kind_with_a_storage_flow_fails_the_kit(temporary_kind):
    base = installed_kind(DeviceType.CONSUMPTION)
    consumer = temporary_kind(
        replace(base, key="storing_consumer", type_name="StoringConsumer", simulate=physics(10, -10))
    )
    with pytest.raises(
        AssertionError, match=r"a consumption kind never produces nor stores, but flow_w is \[-10\.0, -10\.0\]"
    ):
        run_kit_simulation(consumer, dict(base.example))


def test_storage_discharging_while_asked_to_charge_fails_the_kit(temporary_kind):
    base = installed_kind(DeviceType.STORAGE)
    store = temporary_kind(replace(base, key="wrong_way_store", type_name="WrongWayStore", simulate=physics(100, -100)))
    attributes = {**base.example, "mode": StorageMode.CHARGING.value}
    with pytest.raises(AssertionError, match=r"device 0 in mode charging has a storage flow of -100\.0 W"):
        run_kit_simulation(store, attributes)


def charging_at_3_kw(base) -> dict:
    """A storage device charging, rated 3 kW in and 2 kW out."""
    return {**base.example, "mode": StorageMode.CHARGING.value, "max_charge_w": 3_000.0, "max_discharge_w": 2_000.0}


def test_storage_beyond_its_rate_limits_fails_the_kit(temporary_kind):
    base = installed_kind(DeviceType.STORAGE)
    store = temporary_kind(replace(base, key="too_fast_store", type_name="TooFastStore", simulate=physics(1e6, 1e6)))
    attributes = charging_at_3_kw(base)
    with pytest.raises(AssertionError, match=r"above the kind's declared bound of \[3000\.0, "):
        run_kit_simulation(store, attributes)


def test_storage_an_ulp_above_its_rate_fails_the_kit(temporary_kind):
    """The tick clips and warns on any excess, round-off included (a mean taken as
    energy / hours): so the kit allows none either."""
    base = installed_kind(DeviceType.STORAGE)
    above = float(np.nextafter(3_000.0, np.inf))
    rounding = replace(base, key="rounding_store", type_name="RoundingStore", simulate=physics(above, above))
    store = temporary_kind(rounding)
    attributes = charging_at_3_kw(base)
    with pytest.raises(AssertionError, match=r"give \[3000\.0000000000005\] W, above the kind's declared bound"):
        run_kit_simulation(store, attributes)


class SaysItsFields(Codec):
    """A vendor format whose devices say their on/off alone on ``stat/ANY``; credulous
    (any payload reads as on) or strict (``on`` / ``off`` only)."""

    name = "says"
    topic = "tele/ANY"
    fields_topic = "stat/ANY"

    def __init__(self, credulous: bool):
        self.credulous = credulous

    def decode(self, payload, kind):
        raise RefusedPayload("this format carries no readings")

    def decode_fields(self, payload, kind):
        word = payload.decode(errors="replace").strip().lower()
        if not self.credulous and word not in ("on", "off"):
            raise RefusedPayload("on or off")
        return {"status": "offline" if word == "off" else "online"}


@pytest.mark.parametrize("credulous", [True, False])
def test_a_codec_whose_fields_messages_take_junk_fails_the_kit(temporary_kind, credulous):
    base = installed_kind(DeviceType.CONSUMPTION)
    kind = temporary_kind(replace(base, key="says_kind", type_name="SaysKind", codecs=(SaysItsFields(credulous),)))
    check = kit_for(kind, dict(base.example)).test_fields_messages_refuse_malformed_payloads_with_a_reason
    if credulous:
        with pytest.raises(pytest.fail.Exception, match="DID NOT RAISE"):
            check(kind.key)
    else:
        check(kind.key)  # the control: the strict one passes
