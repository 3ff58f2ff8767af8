"""`manage.py seed` as a newcomer meets it: names that agree with its message, homes
that look like real ones, and progress that stays readable in a log."""

from __future__ import annotations

from collections import defaultdict
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from hems.devices.models import Device
from hems.sdk import DeviceKind
from hems.sdk.types import DeviceType
from hems.simulation.seeding import prevalence, seedable_kinds

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed", *args, stdout=out, verbosity=0)
    return out.getvalue()


def test_seed_after_the_demo_user_names_homes_from_one_and_says_so():
    call_command("demo", stdout=StringIO())  # `bin/hems all` made the user "demo"
    out = seed("--homes", "3", "--devices-per-home", "2")
    assert "log in as demo1..demo3 / demo-password-1" in out
    names = set(get_user_model().objects.values_list("username", flat=True))
    assert {"demo", "demo1", "demo2", "demo3"} <= names and "demo4" not in names
    assert get_user_model().objects.get(username="demo1").check_password("demo-password-1")
    # A second run goes on after the highest number, whatever else starts with the prefix.
    get_user_model().objects.create_user(username="demolition", password="x-long-password-1")
    assert "log in as demo4..demo5 /" in seed("--homes", "2", "--devices-per-home", "1")


def test_seeded_homes_have_each_kind_as_often_as_the_kind_says():
    seed("--homes", "300", "--devices-per-home", "12", "--prefix", "real")
    homes_with = defaultdict(set)
    per_home = defaultdict(int)
    for owner, kind in Device.objects.values_list("owner_id", "kind"):
        homes_with[kind].add(owner)
        per_home[owner] += 1
    assert len(per_home) == 300 and set(per_home.values()) == {12}
    for kind in seedable_kinds():
        share = len(homes_with[kind.key]) / 300
        if kind.device_type == DeviceType.CONSUMPTION:
            # Homes larger than their kinds get more loads, so loads are at least as common.
            assert share >= prevalence(kind) - 0.08, (kind.key, share)
        else:
            assert abs(share - prevalence(kind)) <= 0.08, (kind.key, share, prevalence(kind))


def test_a_small_home_keeps_its_most_common_kinds():
    seed("--homes", "50", "--devices-per-home", "1", "--prefix", "tiny")
    kinds = {kind.key: kind for kind in seedable_kinds()}
    most_common = max(prevalence(kind) for kind in kinds.values())
    seeded = list(Device.objects.values_list("kind", flat=True))
    assert len(seeded) == 50
    # One device a home: its likeliest kind, unless the dice left that kind out.
    assert sum(prevalence(kinds[key]) == most_common for key in seeded) >= 25


def test_a_kinds_prevalence_is_a_share():
    with pytest.raises(ValueError, match="prevalence"):
        DeviceKind(key="odd", label="Odd", device_type=DeviceType.CONSUMPTION, model=Device, fields=(), prevalence=2)


@pytest.mark.parametrize(
    "command",
    [
        ("simulate", "--from", "2026-06-21T00:00:00Z", "--to", "2026-06-21T03:00:00Z"),
        ("seed", "--homes", "40", "--devices-per-home", "2", "--prefix", "logged"),
    ],
    ids=["simulate", "seed"],
)
def test_progress_in_a_log_is_a_line_now_and_then(capsys, command):
    """Not a terminal (CI, a container): whole lines, one at the start and one at the end
    of a short run, not a carriage-return redraw per tick."""
    call_command(*command, stdout=StringIO())
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert 1 <= len(lines) <= 3, lines
    assert "100%" in lines[-1]
