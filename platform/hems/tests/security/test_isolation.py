"""User A's token on user B's devices reveals nothing and changes nothing: every
operation answers exactly as it does for an id that does not exist."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hems.simulation.tick import run_tick
from hems.tests.factories import kind_keys, make_device
from hems.tests.security.snapshot import database

pytestmark = pytest.mark.django_db

MISSING = "999999999"
NOON = datetime(2026, 6, 22, 10, 0, tzinfo=UTC)  # a Monday, noon in Berlin
DAY = 'energyHistory(start: "2026-06-22T00:00:00Z", end: "2026-06-23T00:00:00Z", interval: DAY)'
HISTORY = 'energyHistory(start: "2026-06-01T00:00:00Z", end: "2026-06-02T00:00:00Z", interval: HOUR)'

# Every operation that names a device, with the kinds' fields where they apply.
BY_ID = {
    "device": "query($id: ID!) { device(id: $id) { id name kind status powerW } }",
    "device energyHistory": f"query($id: ID!) {{ device(id: $id) {{ id {HISTORY} {{ start energyWh }} }} }}",
    "updateDevice name": 'mutation($id: ID!) { updateDevice(id: $id, input: {name: "mine now"}) { device { id } } }',
    "updateDevice status": "mutation($id: ID!) { updateDevice(id: $id, input: {status: OFFLINE}) { device { id } } }",
    "deleteDevice": "mutation($id: ID!) { deleteDevice(id: $id) { id } }",
}


@pytest.fixture
def victims_devices(other_user):
    return {key: make_device(other_user, key, name=f"bob's {key}") for key in kind_keys()}


@pytest.mark.parametrize("operation", sorted(BY_ID))
def test_another_users_device_answers_as_a_missing_one_and_is_untouched(api, user, victims_devices, operation):
    make_device(user, kind_keys()[0], name="alice's own")
    before = database()
    for device in victims_devices.values():
        foreign = api.execute(BY_ID[operation], {"id": str(device.pk)}, user=user)
        missing = api.execute(BY_ID[operation], {"id": MISSING}, user=user)
        assert foreign == missing
        assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert device.name not in str(foreign)
    assert database() == before


@pytest.mark.parametrize("operation", ["updateDevice kind field", "updateDevice kind field foreign"])
def test_kind_specific_updates_on_another_users_device(api, user, victims_devices, operation):
    before = database()
    for key, device in victims_devices.items():
        field = "".join(p.capitalize() if i else p for i, p in enumerate(key.split("_")))
        query = f"mutation($id: ID!) {{ updateDevice(id: $id, input: {{{field}: {{}}}}) {{ device {{ id }} }} }}"
        foreign = api.execute(query, {"id": str(device.pk)}, user=user)
        assert foreign == api.execute(query, {"id": MISSING}, user=user)
        assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert database() == before


def test_listing_stats_history_and_home_are_the_callers_own(api, user, other_user, victims_devices):
    other_user.home.latitude = -33.9
    other_user.home.save()
    run_tick(NOON)  # the victim's devices now produce, consume and store
    history_query = f"{{ {DAY} {{ productionWh consumptionWh }} }}"
    stats_query = "{ energyStats { currentProduction currentStorage { totalCapacityWh } } }"
    victims = api.data(stats_query, user=other_user)["energyStats"]
    assert victims["currentProduction"] > 0 and victims["currentStorage"]["totalCapacityWh"] > 0
    assert any(b["productionWh"] > 0 for b in api.data(history_query, user=other_user)["energyHistory"])

    assert api.data("{ allDevices { id name } }", user=user)["allDevices"] == []
    stats = api.data(stats_query, user=user)["energyStats"]
    assert stats == {"currentProduction": 0, "currentStorage": {"totalCapacityWh": 0}}
    history = api.data(history_query, user=user)["energyHistory"]
    assert all(bucket == {"productionWh": 0, "consumptionWh": 0} for bucket in history)
    me = api.data("{ me { username home { latitude } } }", user=user)["me"]
    assert me["username"] == "alice" and me["home"]["latitude"] != -33.9


def test_update_home_changes_only_the_callers_home(api, user, other_user):
    before = database()
    api.data('mutation { updateHome(input: {latitude: 10, timeZone: "UTC"}) { home { latitude } } }', user=user)
    after = database()
    assert [h for h in after["homes"] if h["owner_id"] == other_user.pk] == [
        h for h in before["homes"] if h["owner_id"] == other_user.pk
    ]


def test_ids_in_any_form_answer_as_missing(api, user, victims_devices):
    """Padded, signed, spaced or huge forms of another user's id are no way in."""
    pk = next(iter(victims_devices.values())).pk
    before = database()
    query = BY_ID["updateDevice name"]
    missing = api.execute(query, {"id": MISSING}, user=user)
    for form in (f"0{pk}", f"+{pk}", f" {pk} ", f"{pk}.0", str(pk + 2**64), f"-{pk}", "", "1e3"):
        assert api.execute(query, {"id": form}, user=user) == missing, form
    nul = api.execute(query, {"id": f"{pk}\x00"}, user=user)  # refused before any lookup
    assert nul["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert database() == before
