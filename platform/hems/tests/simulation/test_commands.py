"""manage.py simulate and manage.py seed."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from hems.devices.models import Device, DeviceState, Home
from hems.plugins import registry
from hems.simulation.models import HomeEnergy, TickShard
from hems.tests.factories import kind_keys, last_simulated, make_device

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, verbosity=0)
    return out.getvalue()


def test_simulate_at_runs_one_tick(user):
    make_device(user, kind_keys()[0])
    out = run("simulate", "--at", "2026-06-21T12:00:00Z")
    assert "1/1 shard(s) applied, 1 devices" in out
    assert TickShard.objects.get().instant.isoformat() == "2026-06-21T12:00:00+00:00"


def test_simulate_replays_a_range(user):
    make_device(user, kind_keys()[0])
    out = run("simulate", "--from", "2026-06-21T12:00:00Z", "--to", "2026-06-21T13:00:00Z", "--step", "600")
    assert "7 tick(s)" in out
    assert HomeEnergy.objects.count() == 7


@pytest.mark.parametrize(
    "args",
    [
        ("--at", "yesterday"),
        ("--from", "2026-06-21T12:00:00Z"),
        ("--from", "2026-06-21T12:00:00Z", "--to", "2026-06-21T11:00:00Z"),
        ("--at", "2026-06-21T12:00:00Z", "--step", "30"),
    ],
)
def test_simulate_refuses_bad_arguments(args):
    with pytest.raises(CommandError):
        run("simulate", *args)
    assert not TickShard.objects.exists()


def test_seed_creates_homes_with_devices_of_every_type_that_validate():
    # Eight homes: storage is in many homes, not all (DeviceKind.prevalence).
    run("seed", "--homes", "8", "--devices-per-home", "20", "--prefix", "seedtest")
    users = get_user_model().objects.filter(username__startswith="seedtest")
    assert users.count() == 8 and Home.objects.filter(owner__in=users).count() == 8
    devices = list(Device.objects.with_kinds().filter(owner__in=users))
    assert len(devices) == 160 and DeviceState.objects.count() == 160
    assert {d.device_type for d in devices} == {"production", "consumption", "storage"}
    for device in devices:
        device.specific.full_clean()  # bulk-inserted rows are as valid as saved ones
    assert get_user_model().objects.get(username="seedtest1").check_password("demo-password-1")
    # and the tick runs over them
    out = run("simulate", "--at", "2026-06-21T12:00:00Z")
    assert "160 devices" in out


def test_seeded_kinds_come_from_the_registry():
    run("seed", "--homes", "4", "--devices-per-home", "40", "--prefix", "mix")
    assert set(Device.objects.values_list("kind", flat=True)) <= set(registry().kinds)
    assert len(set(Device.objects.values_list("kind", flat=True))) >= 4


def test_seed_refuses_nonsense():
    with pytest.raises(CommandError):
        run("seed", "--homes", "0")


LIVE = "2026-12-01T10:00:00Z"


def test_a_backfill_older_than_the_live_state_is_refused_and_changes_nothing(user):
    """Issue 11, item 16: replaying last June on a running home stamped the devices it
    had not simulated yet with June, and the next live tick booked the capped two
    hours into one minute."""
    ticked = make_device(user, kind_keys()[0], name="ticked")
    run("simulate", "--at", LIVE)
    added = make_device(user, kind_keys()[-1], name="added since")
    before = list(DeviceState.objects.order_by("pk").values())
    for args in (
        ("--from", "2026-06-01T00:00:00Z", "--to", "2026-06-01T00:05:00Z"),
        ("--from", "2026-06-01T00:00:00Z", "--to", "2026-12-01T10:05:00Z"),
        ("--at", "2026-12-01T09:59:00Z"),
    ):
        with pytest.raises(CommandError, match=r"before the live state \(2026-12-01T10:00:00\+00:00"):
            run("simulate", *args)
    assert list(DeviceState.objects.order_by("pk").values()) == before
    assert DeviceState.objects.get(pk=added.pk).simulated_at is None
    assert HomeEnergy.objects.count() == 1 and TickShard.objects.count() == 1
    run("simulate", "--at", "2026-12-01T10:01:00Z")  # the next live tick: one minute, not two hours
    latest = HomeEnergy.objects.order_by("period_end").last()
    assert (latest.period_end - latest.period_start).total_seconds() == 60
    assert last_simulated(DeviceState.objects.get(pk=ticked.pk)).isoformat() == "2026-12-01T10:01:00+00:00"


def test_a_replay_forward_from_the_live_state_runs(user):
    make_device(user, kind_keys()[0])
    run("simulate", "--at", LIVE)
    out = run("simulate", "--from", LIVE, "--to", "2026-12-01T10:03:00Z")  # the live minute is a no-op
    assert "4 tick(s)" in out and HomeEnergy.objects.count() == 4
