"""Done when: installed, the appliances are a first-class part of the platform.

``manage.py drivers`` lists the driver; ``createDevice`` takes a ``dishwasher`` input;
``allDevices`` answers with the kind's own type; the admin shows it; the tick
simulates it and ``energyStats`` counts it as consumption. Everything goes through
public surfaces: management commands, GraphQL over HTTP, the admin's pages, and
``hems.testing``.
"""

import json
import re
from datetime import datetime
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from freezegun import freeze_time

from hems.testing import driver_status, kind, run_tick

# These tests need the package installed (pip install -e ./examples/hems-appliances).
pytest.importorskip("hems_appliances", reason="hems-appliances is not installed")

pytestmark = pytest.mark.django_db

CREATE = """
mutation Create($input: CreateDeviceInput!) {
  createDevice(input: $input) { device { id name kind deviceType status } }
}
"""
ALL_DEVICES = """
{ allDevices {
    __typename id name kind deviceType powerW lastSimulatedAt
    ... on Dishwasher { cycle heaterPowerW startTime cyclesPerWeek }
    ... on WashingMachine { washProgram spinRpm startTime }
    ... on Refrigerator { compressorPowerW annualEnergyKwh setpointC defrostHeaterW }
} }
"""
STATS = "{ energyStats { currentConsumption currentProduction netGridFlow timestamp } }"
# 13:05 in Berlin on a spring day: the dishwasher started at 13:00 is heating.
HEATING = datetime(2026, 4, 14, 13, 5, tzinfo=ZoneInfo("Europe/Berlin"))


def test_manage_py_drivers_lists_it():
    out = StringIO()
    call_command("drivers", "--json", stdout=out)
    found = {d["name"]: d for d in json.loads(out.getvalue())}
    appliances = found["appliances"]
    assert appliances["status"] == "loaded" and appliances["module"] == "hems_appliances.driver"
    assert appliances["version"] == "1.0.0"
    assert [(k["key"], k["device_type"]) for k in appliances["kinds"]] == [
        ("dishwasher", "consumption"),
        ("washing_machine", "consumption"),
        ("refrigerator", "consumption"),
    ]
    assert driver_status("appliances") == ("loaded", None)


def create(api, user, name, kind_field, attributes):
    variables = {"input": {"name": name, kind_field: attributes}}
    return api.data(CREATE, variables, user=user)["createDevice"]["device"]


def test_created_through_the_api_and_listed_with_its_own_type(api, user):
    dishwasher = create(
        api,
        user,
        "Dishwasher",
        "dishwasher",
        {"cycle": "ECO", "heaterPowerW": 1800.0, "startTime": "13:00:00"},
    )
    assert dishwasher["kind"] == "dishwasher" and dishwasher["deviceType"] == "CONSUMPTION"
    create(api, user, "Fridge", "refrigerator", {"annualEnergyKwh": 180.0})
    create(api, user, "Washer", "washingMachine", {"spinRpm": 1_000})

    listed = {d["name"]: d for d in api.data(ALL_DEVICES, user=user)["allDevices"]}
    assert listed["Dishwasher"]["__typename"] == "Dishwasher"
    assert listed["Dishwasher"]["cycle"] == "ECO" and listed["Dishwasher"]["startTime"] == "13:00:00"
    assert listed["Dishwasher"]["cyclesPerWeek"] == 5.0, "the model's default"
    assert listed["Fridge"]["__typename"] == "Refrigerator"
    assert listed["Fridge"]["compressorPowerW"] == 90.0 and listed["Fridge"]["annualEnergyKwh"] == 180.0
    assert listed["Washer"]["__typename"] == "WashingMachine" and listed["Washer"]["startTime"] is None


def test_a_schedule_is_set_and_cleared_through_the_api(api, user):
    device = create(api, user, "Dishwasher", "dishwasher", {"heaterPowerW": 1800.0})
    update = """
    mutation Update($id: ID!, $input: UpdateDeviceInput!) {
      updateDevice(id: $id, input: $input) { device { ... on Dishwasher { startTime cycle } } }
    }"""
    set_ = {"id": device["id"], "input": {"dishwasher": {"startTime": "13:00:00"}}}
    assert api.data(update, set_, user=user)["updateDevice"]["device"] == {
        "startTime": "13:00:00",
        "cycle": "NORMAL",
    }
    clear = {"id": device["id"], "input": {"dishwasher": {"startTime": None}}}
    assert api.data(update, clear, user=user)["updateDevice"]["device"] == {"startTime": None, "cycle": "NORMAL"}
    assert kind("dishwasher").model.objects.get(pk=device["id"]).start_time is None, "back to the household's habit"
    refused = api.error(update, {"id": device["id"], "input": {"dishwasher": {"cyclesPerWeek": 9.0}}}, user=user)
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert refused["extensions"]["field"] == "dishwasher.cyclesPerWeek"


def test_the_admin_shows_it(admin_client, user):
    model = kind("dishwasher").model
    device = model(name="Kitchen dishwasher", owner=user, heater_power_w=1800.0)
    device.full_clean()
    device.save()
    index = admin_client.get("/admin/").content.decode()
    assert "Household appliances" in index and "Dishwashers" in index
    listing = admin_client.get("/admin/appliances/dishwasher/")
    assert listing.status_code == 200 and "Kitchen dishwasher" in listing.content.decode()
    change = admin_client.get(f"/admin/appliances/dishwasher/{device.pk}/change/").content.decode()
    assert 'name="start_time"' in change and 'name="cycle"' in change
    every_device = admin_client.get("/admin/devices/device/?kind=dishwasher").content.decode()
    assert "Kitchen dishwasher" in every_device


@freeze_time(HEATING)
def test_the_tick_simulates_it_and_energy_stats_count_it_as_consumption(api, user):
    create(api, user, "Dishwasher", "dishwasher", {"heaterPowerW": 1800.0, "startTime": "13:00:00"})
    create(api, user, "Fridge", "refrigerator", {"defrostHeaterW": 0.0})

    assert run_tick(HEATING) == 2
    devices = {d["name"]: d for d in api.data(ALL_DEVICES, user=user)["allDevices"]}
    assert devices["Dishwasher"]["powerW"] == pytest.approx(1_840.0, rel=0.02)
    assert devices["Dishwasher"]["lastSimulatedAt"].startswith("2026-04-14T11:05:00")
    fridge_w = devices["Fridge"]["powerW"]
    assert 0 <= fridge_w <= 90.0 * 1.1

    stats = api.data(STATS, user=user)["energyStats"]
    assert stats["currentConsumption"] == pytest.approx(devices["Dishwasher"]["powerW"] + fridge_w, abs=0.01)
    assert stats["currentProduction"] == 0
    assert stats["netGridFlow"] == pytest.approx(stats["currentConsumption"], abs=0.01), "all from the grid"


@freeze_time(HEATING)
def test_a_dishwasher_set_offline_draws_nothing(api, user):
    device = create(api, user, "Dishwasher", "dishwasher", {"heaterPowerW": 1800.0, "startTime": "13:00:00"})
    offline = "mutation($id: ID!) { updateDevice(id: $id, input: {status: OFFLINE}) { device { status } } }"
    api.data(offline, {"id": device["id"]}, user=user)
    run_tick(HEATING)
    assert api.data(STATS, user=user)["energyStats"]["currentConsumption"] == 0


README = Path(__file__).resolve().parents[1] / "README.md"


def readme_documents() -> list[str]:
    documents: list[str] = []
    for block in re.findall(r"```graphql\n(.*?)```", README.read_text(), re.S):
        for line in block.splitlines():
            if line.startswith(("mutation", "{", "query")):
                documents.append(line)
            elif line.strip() and not line.startswith("#"):
                documents[-1] += "\n" + line
    return documents


def test_the_readme_examples_are_valid_graphql(api, user):
    """Every GraphQL example in the package's README passes the server's validation (an
    example may still be refused at execution, e.g. a device id that does not exist)."""
    documents = readme_documents()
    assert len(documents) >= 3
    for document in documents:
        errors = api.execute(document.split("#")[0], user=user).get("errors") or []
        assert not [e for e in errors if e["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"], (document, errors)
