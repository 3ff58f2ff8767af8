"""A non-editable install (the Docker image's ``pip install .``) carries everything the
code reads at run time: the wheel holds every file of the package folders but their
tests (templates, static files and vendored scripts included, not only the .py), and
Django, run from the wheel's files alone, finds the templates and static files there.

The wheels are built offline from a copy of the checkout (pip builds in the source
folder; the checkout stays clean), once for the module.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path, PurePosixPath

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "hems-appliances"
EXAMPLE_PACKAGE = next(path.parent.name for path in EXAMPLE.glob("*/__init__.py"))
SKIP = shutil.ignore_patterns("__pycache__", "*.py[cod]", "build", "dist", "*.egg-info")

# Each distribution: its project folder, and its package folders with the prefix that
# folder has in the checkout but not in the wheel (platform/ is a source root).
PROJECTS = {
    "hems": (ROOT, {"platform/hems": "platform/", "drivers": ""}),
    "example": (EXAMPLE, {EXAMPLE_PACKAGE: ""}),
}


def is_test(path: str) -> bool:
    return "tests" in PurePosixPath(path).parts[:-1]


def checkout_files(project: Path, folder: str) -> set[str]:
    """The files of ``folder`` a checkout has (tracked, or new and not ignored), by git
    when this is a git checkout, else by walking it."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", folder],
        cwd=project,
        capture_output=True,
        text=True,
    )
    if listed.returncode == 0 and listed.stdout.strip():
        names = {line for line in listed.stdout.splitlines() if (project / line).is_file()}
    else:
        names = {
            path.relative_to(project).as_posix()
            for path in (project / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        }
    return {name for name in names if not is_test(name)}


def expected(name: str) -> set[str]:
    """Every file a wheel of ``name`` should hold outside its .dist-info: its package
    folders' files, tests left out, at their import paths."""
    project, folders = PROJECTS[name]
    files = set()
    for folder, prefix in folders.items():
        files |= {path.removeprefix(prefix) for path in checkout_files(project, folder)}
    return files


def build(source: Path, out: Path) -> Path:
    """The wheel of ``source``, built offline as the Dockerfile's ``pip install .`` does."""
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--wheel-dir", str(out), str(source)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (wheel,) = out.glob("*.whl")
    return wheel


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("packaging")
    copy = work / "hems"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "MANIFEST.in"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, copy / name)
    shutil.copytree(ROOT / "platform", copy / "platform", ignore=SKIP)
    shutil.copytree(ROOT / "drivers", copy / "drivers", ignore=SKIP)
    example = shutil.copytree(EXAMPLE, work / "example", ignore=SKIP)
    return {
        "hems": build(copy, work / "dist-hems"),
        "example": build(example, work / "dist-example"),
    }


@pytest.mark.parametrize("name", PROJECTS)
def test_the_wheel_holds_every_file_of_the_packages_but_their_tests(wheels, name):
    with zipfile.ZipFile(wheels[name]) as wheel:
        held = {entry for entry in wheel.namelist() if not entry.split("/")[0].endswith(".dist-info")}
    wanted = expected(name)
    if name == "hems":  # the listing of the checkout found what it is meant to check
        assert "hems/dashboard/templates/dashboard/index.html" in wanted
        assert any(path.startswith("drivers/") and path.endswith("/driver.py") for path in wanted)
    assert sorted(wanted - held) == [], "files the installed package would lack"
    assert sorted(held - wanted) == [], "files in the wheel that are not the packages' (tests, caches)"


RUN_FROM_WHEEL = """
import json
from pathlib import Path

import django
from django.conf import settings

django.setup()
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.template.loader import get_template

import hems

site = Path(SITE).resolve()
call_command("check")
templates, statics = [], []
for app_dir in (site / "hems").rglob("templates"):
    for path in app_dir.rglob("*.html"):
        origin = get_template(path.relative_to(app_dir).as_posix()).origin.name
        templates.append(str(Path(origin).resolve().relative_to(site)))
for app_dir in (site / "hems").rglob("static"):
    for path in app_dir.rglob("*"):
        if path.is_file():
            statics.append(str(Path(finders.find(path.relative_to(app_dir).as_posix())).resolve().relative_to(site)))
print(json.dumps({"hems": str(Path(hems.__file__).resolve().relative_to(site)), "templates": templates,
                  "static": statics, "drivers": sorted(settings.HEMS_DRIVER_APPS),
                  "data_dir": str(settings.EMBEDDED_DATA_DIR), "static_root": str(settings.STATIC_ROOT)}))
"""


def test_django_runs_from_the_wheel_alone(wheels, tmp_path):
    """Unpacked, with nothing of the checkout on the path: the templates render and the
    static files (the dashboard's, the vendored ECharts, GraphiQL and React) are found
    in the installed package, which is what ``collectstatic`` copies."""
    site = tmp_path / "site"
    for wheel in wheels.values():
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site), "DJANGO_SETTINGS_MODULE": "hems.settings", "SITE": str(site)}
    for name in ("HEMS_DATA_DIR", "STATIC_ROOT", "XDG_DATA_HOME"):
        env.pop(name, None)
    env["HOME"] = str(tmp_path / "home")
    script = "import os\nSITE = os.environ['SITE']\n" + textwrap.dedent(RUN_FROM_WHEEL)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["hems"] == "hems/__init__.py"
    # Nothing written inside site-packages: the data and the collected static files go
    # to the user's data directory.
    assert found["data_dir"] == str(tmp_path / "home" / ".local" / "share" / "hems")
    assert found["static_root"] == str(tmp_path / "home" / ".local" / "share" / "hems" / "staticfiles")
    assert "hems/dashboard/templates/dashboard/index.html" in found["templates"]
    assert "hems/graphiql/templates/hems/graphiql.html" in found["templates"]
    static = set(found["static"])
    for vendored in (
        "hems/dashboard/static/vendor/echarts-5.6.0/echarts.min.js",
        "hems/graphiql/static/vendor/graphiql-3.9.0/graphiql.min.js",
        "hems/graphiql/static/vendor/react-18.3.1/react.production.min.js",
        "hems/dashboard/static/dashboard/dashboard.js",
    ):
        assert vendored in static
