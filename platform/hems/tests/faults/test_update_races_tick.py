"""A user's updateDevice racing the tick on the same device, in real transactions from
two threads: the user's change always survives, the state stays within its bounds, and
no tick is lost. For every storage kind (the kinds with a level to keep in bounds)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from graphene.utils.str_converters import to_camel_case

from hems.devices.models import Device, DeviceState
from hems.plugins import registry
from hems.simulation.models import HomeEnergy, TickShard
from hems.simulation.tick import run_tick
from hems.testing.api import Api
from hems.tests.factories import last_simulated, make_device, storage_kind_keys

pytestmark = pytest.mark.django_db(transaction=True)

T0 = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)
ROUNDS = 40
UPDATE = "mutation($id: ID!, $input: UpdateDeviceInput!) { updateDevice(id: $id, input: $input) { device { id } } }"


def in_thread(target, errors: list):
    def run():
        try:
            target()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    return threading.Thread(target=run)


@pytest.mark.parametrize("kind_key", storage_kind_keys())
def test_updates_racing_the_tick_survive_and_leave_a_valid_state(user, kind_key):
    # Nearly full and charging, while the user keeps shrinking and growing the
    # capacity: a tick that read the old capacity must not write a level above the new.
    full = registry().kind(kind_key).example["capacity_wh"]
    sizes = (full, 0.6 * full)
    device = make_device(user, kind_key, capacity_wh=full, level_wh=0.96 * full, mode="charging")
    run_tick(T0)
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    instants = [T0 + timedelta(minutes=i) for i in range(1, ROUNDS + 1)]

    def ticks():
        start.wait()
        for instant in instants:
            run_tick(instant)

    def updates():
        api = Api()
        start.wait()
        for i in range(ROUNDS):
            name, size, mode = f"Store {i}", sizes[i % 2], "DISCHARGING" if i % 3 == 0 else "CHARGING"
            change = {"name": name, to_camel_case(kind_key): {"capacityWh": size, "mode": mode}}
            api.data(UPDATE, {"id": device.pk, "input": change}, user=user)
            got = Device.objects.get(pk=device.pk).specific  # a tick may have committed since: it must not matter
            assert (got.name, got.capacity_wh, got.mode.upper()) == (name, size, mode)

    threads = [in_thread(ticks, errors), in_thread(updates, errors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not errors, errors

    last = Device.objects.get(pk=device.pk).specific
    assert (last.name, last.capacity_wh) == (f"Store {ROUNDS - 1}", sizes[(ROUNDS - 1) % 2])
    state = DeviceState.objects.get(pk=device.pk)
    assert state.capacity_wh == last.capacity_wh
    assert 0.0 <= state.level_wh <= state.capacity_wh
    assert last_simulated(state) == instants[-1]
    assert TickShard.objects.filter(instant__gt=T0).count() == ROUNDS  # every tick applied
    assert HomeEnergy.objects.filter(owner_id=user.pk, period_end__gt=T0).count() == ROUNDS
