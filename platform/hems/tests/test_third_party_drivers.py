"""A driver installed as its own distribution is discovered, migrated and shown in
the admin with no change to the core; a broken one is reported by name while the
others keep working; a disabled one is left out.

Django reads INSTALLED_APPS once per process, so each scenario runs ``manage.py`` in
a subprocess against its own database, with the test-built distributions on its
path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import entry_points
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from hems.plugins import registry

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]

KETTLE_DRIVER = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "hems-kettle"
        version = "2.3.4"

        [project.entry-points."hems.drivers"]
        kettle = "hems_kettle.driver"

        [tool.setuptools.packages.find]
        include = ["hems_kettle*"]
    """,
    "hems_kettle/__init__.py": "",
    "hems_kettle/apps.py": """
        from hems.sdk import DriverAppConfig

        class KettleConfig(DriverAppConfig):
            name = "hems_kettle"
    """,
    "hems_kettle/models.py": """
        from django.core.validators import MinValueValidator
        from django.db import models
        from hems.sdk import Device

        class Kettle(Device):
            rated_power_w = models.FloatField(validators=[MinValueValidator(1)])

            class Meta:
                constraints = [
                    models.CheckConstraint(condition=models.Q(rated_power_w__gt=0), name="kettle_power_positive"),
                ]
    """,
    "hems_kettle/migrations/__init__.py": "",
    "hems_kettle/driver.py": """
        from hems.sdk import DeviceKind, DeviceType, hookimpl
        from hems_kettle.models import Kettle

        @hookimpl
        def hems_register_kinds(register):
            register(DeviceKind(key="kettle", label="Kettle", device_type=DeviceType.CONSUMPTION,
                                model=Kettle, fields=("rated_power_w",), example={"rated_power_w": 2200.0}))
    """,
}

BROKEN_DRIVERS = {
    "pyproject.toml": """
        [build-system]
        requires = ["setuptools>=69"]
        build-backend = "setuptools.build_meta"

        [project]
        name = "hems-broken"
        version = "0.0.1"

        [project.entry-points."hems.drivers"]
        missing_dependency = "hems_broken_dep.driver"
        bad_models = "hems_broken_models.driver"
        no_such_module = "hems_not_there.driver"

        [tool.setuptools.packages.find]
        include = ["hems_broken*"]
    """,
    "hems_broken_dep/__init__.py": "",
    "hems_broken_dep/apps.py": """
        from hems.sdk import DriverAppConfig

        class BrokenDepConfig(DriverAppConfig):
            name = "hems_broken_dep"
    """,
    "hems_broken_dep/driver.py": "import a_library_nobody_installed  # noqa\n",
    "hems_broken_models/__init__.py": "",
    "hems_broken_models/apps.py": """
        from hems.sdk import DriverAppConfig

        class BrokenModelsConfig(DriverAppConfig):
            name = "hems_broken_models"
    """,
    "hems_broken_models/models.py": "raise RuntimeError('the models of this driver are broken')\n",
    "hems_broken_models/driver.py": "from hems_broken_models import models  # noqa\n",
}


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


def install(source: Path, target: Path) -> None:
    """Build the distribution and install it into ``target``, as pip would for a user."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        text=True,
    )


@pytest.fixture
def database_url():
    """A database of its own for the subprocess, dropped afterwards."""
    db = settings.DATABASES["default"]
    name = f"hems_plugin_test_{os.getpid()}"
    admin = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
    if db.get("PASSWORD"):
        admin += f" password={db['PASSWORD']}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    yield f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(*args: str, site: Path | None = None, env: dict[str, str] | None = None) -> str:
    environ = {**os.environ, **(env or {})}
    environ.pop("DJANGO_SETTINGS_MODULE", None)
    if site is not None:
        environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), environ.get("PYTHONPATH", "")]))
    done = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args], env=environ, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def drivers(site: Path | None = None, env: dict[str, str] | None = None) -> dict[str, dict]:
    return {d["name"]: d for d in json.loads(manage("drivers", "--json", site=site, env=env))}


ADMIN_CHECK = """
import json
from django.contrib.auth import get_user_model
from django.test import Client
from hems.devices.models import Device
from hems.plugins import registry

User = get_user_model()
staff = User.objects.create_superuser("root", "root@example.com", "a long admin password")
owner = User.objects.create_user("kate", password="a long user password")
kind = registry().kind("kettle")
kettle = kind.model(name="Kitchen kettle", owner=owner, rated_power_w=2200)
kettle.full_clean()
kettle.save()
client = Client()
client.force_login(staff)
pages = {
    "index": client.get("/admin/"),
    "changelist": client.get("/admin/hems_kettle/kettle/"),
    "change": client.get(f"/admin/hems_kettle/kettle/{kettle.pk}/change/"),
    "devices": client.get("/admin/devices/device/?kind=kettle"),
}
listed = [d.specific for d in Device.objects.with_kinds()]
print(json.dumps({
    "status": {name: page.status_code for name, page in pages.items()},
    "index_mentions_kettles": "Kettles" in pages["index"].content.decode(),
    "listed_in_devices": "Kitchen kettle" in pages["devices"].content.decode(),
    "specific": [type(d).__name__ for d in listed],
    "power": [d.rated_power_w for d in listed],
}))
"""


def test_an_installed_driver_package_is_discovered_migrated_and_in_the_admin(tmp_path, database_url):
    site = tmp_path / "site"
    install(write_tree(tmp_path / "hems-kettle", KETTLE_DRIVER), site)
    env = {"DATABASE_URL": database_url}

    found = drivers(site, env)
    assert found["kettle"]["status"] == "loaded"
    assert found["kettle"]["version"] == "2.3.4"
    assert found["kettle"]["module"] == "hems_kettle.driver"
    assert found["kettle"]["kinds"] == [{"key": "kettle", "label": "Kettle", "device_type": "consumption"}]

    # The author makes the driver's migration; the platform applies it.
    manage("makemigrations", "hems_kettle", site=site, env=env)
    assert (site / "hems_kettle" / "migrations" / "0001_initial.py").exists()
    out = manage("migrate", "--no-input", site=site, env=env)
    assert "hems_kettle.0001_initial... OK" in out

    result = json.loads(manage("shell", "-c", ADMIN_CHECK, site=site, env=env).strip().splitlines()[-1])
    assert result["status"] == {"index": 200, "changelist": 200, "change": 200, "devices": 200}
    assert result["index_mentions_kettles"] and result["listed_in_devices"]
    assert result["specific"] == ["Kettle"] and result["power"] == [2200.0]


def test_broken_drivers_are_reported_by_name_and_the_others_keep_working(tmp_path, database_url):
    site = tmp_path / "site"
    install(write_tree(tmp_path / "hems-broken", BROKEN_DRIVERS), site)
    env = {"DATABASE_URL": database_url}

    found = drivers(site, env)
    assert found["missing_dependency"]["status"] == "broken"
    assert "a_library_nobody_installed" in found["missing_dependency"]["reason"]
    assert found["bad_models"]["status"] == "broken"
    assert "the models of this driver are broken" in found["bad_models"]["reason"]
    assert found["no_such_module"]["status"] == "broken"
    assert "hems_not_there" in found["no_such_module"]["reason"]
    builtin = {name: d for name, d in found.items() if d["module"].startswith("drivers.")}
    assert len(builtin) == 5 and all(d["status"] == "loaded" for d in builtin.values())

    # The platform still starts, checks and migrates with them installed.
    manage("check", site=site, env=env)
    manage("migrate", "--no-input", site=site, env=env)


def test_a_driver_can_be_disabled_from_the_environment(database_url):
    first, second, *others = sorted(registry().drivers)
    found = drivers(env={"DATABASE_URL": database_url, "HEMS_DISABLED_DRIVERS": f"{first}, {second}"})
    assert found[first]["status"] == found[second]["status"] == "disabled"
    assert found[first]["kinds"] == []
    assert all(found[name]["status"] == "loaded" for name in others)


# -- the example package, installed and then gone -------------------------------------

EXAMPLE = ROOT / "examples" / "hems-appliances"
# Its driver's name, read from its own metadata: the core's source names no kind of it.
EXAMPLE_DRIVER = next(
    iter(tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]["entry-points"]["hems.drivers"])
)
TICK = "2026-04-14T11:05:00+00:00"

EXAMPLE_SETUP = """
import json
from datetime import datetime
from django.contrib.auth import get_user_model
from hems.plugins import registry
from hems.simulation.tick import run_tick

reg = registry()
owner = get_user_model().objects.create_user("uma", password="a long user password")
get_user_model().objects.create_superuser("root", "root@example.com", "a long admin password")
made = {}
for kind in reg.drivers[DRIVER].kinds:
    device = kind.model(name=f"My {kind.label}", owner=owner, **dict(kind.example))
    device.full_clean()
    device.save()
    made[kind.key] = device.pk
shipped = sorted(k for k in reg.kinds if reg.driver_of_kind(k).module.startswith("drivers."))[0]
kind = reg.kind(shipped)
device = kind.model(name="A shipped device", owner=owner, **dict(kind.example))
device.full_clean()
device.save()
run_tick(datetime.fromisoformat(TICK))
print(json.dumps({"example": made, "shipped": device.pk}))
"""

EXAMPLE_GONE = """
import json
from datetime import datetime, timedelta
from django.contrib.auth import get_user_model
from django.test import Client
from graphql_jwt.shortcuts import get_token
from hems.plugins import registry
from hems.simulation.tick import run_tick

ids = json.loads(IDS)
owner = get_user_model().objects.get(username="uma")
api = Client()
def graphql(query, **variables):
    body = json.dumps({"query": query, "variables": variables})
    answer = api.post("/graphql/", body, content_type="application/json",
                      HTTP_AUTHORIZATION=f"Bearer {get_token(owner)}")
    return answer.status_code, answer.json()

LIST = "{ allDevices { __typename id name kind deviceType status powerW } }"
STATS = "{ energyStats { currentConsumption currentProduction netGridFlow } }"
result = {"registered": sorted(registry().drivers[DRIVER].kinds) if DRIVER in registry().drivers else None}
result["list_before"] = graphql(LIST)
result["stats_before"] = graphql(STATS)
one = next(iter(ids["example"].values()))
result["one"] = graphql("query($id: ID!) { device(id: $id) { __typename id kind } }", id=one)

admin = Client()
admin.force_login(get_user_model().objects.get(username="root"))
pages = {
    "index": "/admin/",
    "devices": "/admin/devices/device/",
    "filtered": f"/admin/devices/device/?kind={next(iter(ids['example']))}",
    "change": f"/admin/devices/device/{one}/change/",
    "kinds": "/admin/devices/kindrecord/",
    "user": f"/admin/auth/user/{owner.pk}/change/",
}
answers = {name: admin.get(url) for name, url in pages.items()}
result["admin"] = {name: answer.status_code for name, answer in answers.items()}
result["admin_lists_them"] = all(f"My " in answers["devices"].content.decode() for _ in ids["example"])
result["admin_says_missing"] = "driver missing" in answers["devices"].content.decode()

from hems.energy.stats import stats_from_database
from_db = stats_from_database(owner.pk, datetime.fromisoformat(TICK))
result["stats_from_database"] = from_db.current_consumption + from_db.current_production

reports = run_tick(datetime.fromisoformat(TICK) + timedelta(minutes=1))
result["tick"] = [(r.applied, r.devices) for r in reports]
result["list_after"] = graphql(LIST)
result["stats_after"] = graphql(STATS)
result["deleted"] = graphql("mutation($id: ID!) { deleteDevice(id: $id) { id } }", id=one)
result["list_end"] = graphql(LIST)
print(json.dumps(result))
"""


def example_installed() -> bool:
    return any(ep.name == EXAMPLE_DRIVER for ep in entry_points(group="hems.drivers"))


def shell(script: str, site: Path | None, env: dict[str, str], **values: str) -> dict:
    prelude = "".join(f"{name} = {value!r}\n" for name, value in values.items())
    return json.loads(manage("shell", "-c", prelude + script, site=site, env=env).strip().splitlines()[-1])


def test_uninstalling_the_example_leaves_its_devices_reported_as_missing(tmp_path, database_url):
    """Install the real example package, make one device of each of its kinds and run a
    tick; then start without it: the API answers them as UnavailableDevice, the admin
    lists them as belonging to a missing driver, the tick skips them, energyStats
    leaves them out, and they can still be deleted.

    Where the example is not installed in this environment it is installed into a
    folder of its own for the first half and is truly gone for the second; where it
    is installed (pip install -e), the second half disables it (HEMS_DISABLED_DRIVERS),
    which leaves its app out of Django exactly as uninstalling does.
    """
    # Its own Redis prefix too: the subprocesses' owner ids would be another run's.
    env = {"DATABASE_URL": database_url, "HEMS_REDIS_PREFIX": f"{settings.HEMS_REDIS_PREFIX}uninstall:"}
    site = None
    if example_installed():
        gone_env = {**env, "HEMS_DISABLED_DRIVERS": EXAMPLE_DRIVER}
    else:
        site = tmp_path / "site"
        # Built from a copy: pip builds in the source folder, which stays clean this way.
        source = shutil.copytree(EXAMPLE, tmp_path / "source", ignore=shutil.ignore_patterns("build", "*.egg-info"))
        install(source, site)
        gone_env = env
    assert drivers(site, env)[EXAMPLE_DRIVER]["status"] == "loaded"
    manage("migrate", "--no-input", site=site, env=env)
    made = shell(EXAMPLE_SETUP, site, env, DRIVER=EXAMPLE_DRIVER, TICK=TICK)
    assert len(made["example"]) >= 3

    gone = shell(EXAMPLE_GONE, None, gone_env, DRIVER=EXAMPLE_DRIVER, TICK=TICK, IDS=json.dumps(made))
    assert not gone["registered"], "the driver provides no kind any more"

    status, listed = gone["list_before"]
    assert status == 200 and "errors" not in listed, listed
    by_id = {int(d["id"]): d for d in listed["data"]["allDevices"]}
    for key, pk in made["example"].items():
        device = by_id[pk]
        assert device["__typename"] == "UnavailableDevice" and device["kind"] == key, device
        assert device["status"] == "OFFLINE" and device["powerW"] == 0, device
    assert by_id[made["shipped"]]["__typename"] != "UnavailableDevice"
    assert gone["one"][1]["data"]["device"]["__typename"] == "UnavailableDevice"

    assert gone["admin"] == dict.fromkeys(gone["admin"], 200), gone["admin"]
    assert gone["admin_lists_them"] and gone["admin_says_missing"]

    assert all(applied for applied, _ in gone["tick"]) and sum(n for _, n in gone["tick"]) == 1, gone["tick"]
    # Until the next tick energyStats may be the figure that tick cached; from the
    # database or after a tick, a device whose driver is missing counts for nothing.
    assert "errors" not in gone["stats_before"][1] and "errors" not in gone["list_after"][1]
    stats = gone["stats_after"][1]["data"]["energyStats"]
    shipped = {int(d["id"]): d for d in gone["list_after"][1]["data"]["allDevices"]}[made["shipped"]]
    assert stats["currentConsumption"] + stats["currentProduction"] == pytest.approx(shipped["powerW"])
    assert gone["stats_from_database"] == pytest.approx(shipped["powerW"])
    assert "data" in gone["deleted"][1], gone["deleted"]
    assert gone["deleted"][1]["data"]["deleteDevice"]["id"] == str(made["example"][next(iter(made["example"]))])
    assert len(gone["list_end"][1]["data"]["allDevices"]) == len(made["example"])
