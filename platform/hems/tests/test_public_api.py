"""Drivers import from the core only what the public driver API documents.

A driver's code may import ``hems.sdk`` (the names in ``hems.sdk.__all__``); its
tests may also import ``hems.testing`` (the names in ``hems.testing.__all__``).
Anything else of ``hems`` is the core's inside and may change without notice. This
holds the built-in drivers and the example third-party package to it, by parsing
their source (nothing needs to be installed), and checks that every public name is
documented in docs/driver-api.md.
"""

from __future__ import annotations

import ast
import re
import tomllib
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

import hems.sdk
import hems.testing

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "hems-appliances"
API_DOC = ROOT / "docs" / "driver-api.md"
PUBLIC = {"hems.sdk": set(hems.sdk.__all__)}
PUBLIC_IN_TESTS = {**PUBLIC, "hems.testing": set(hems.testing.__all__)}


def driver_sources() -> list[tuple[Path, bool]]:
    """Every Python file of the built-in drivers and of the example, and whether it is a test."""
    files = [*sorted((ROOT / "drivers").rglob("*.py")), *sorted(EXAMPLE.rglob("*.py"))]
    return [(path, "tests" in path.relative_to(ROOT).parts) for path in files if "__pycache__" not in path.parts]


def hems_imports(tree: ast.AST):
    """(line, module, name) for every import of hems, including import_module("hems...")."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "hems" or node.module.startswith("hems."):
                for alias in node.names:
                    yield node.lineno, node.module, alias.name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "hems" or alias.name.startswith("hems."):
                    yield node.lineno, alias.name, None
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            called = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            target = node.args[0].value
            if called in {"import_module", "__import__"} and isinstance(target, str) and target.startswith("hems"):
                yield node.lineno, target, None


def violations(path: Path, allowed: dict[str, set[str]], root: Path = ROOT) -> list[str]:
    found = []
    for line, module, name in hems_imports(ast.parse(path.read_text(), filename=str(path))):
        where = f"{path.relative_to(root)}:{line}"
        if module not in allowed:
            found.append(f"{where}: imports {module} (not the public driver API)")
        elif name is not None and name not in allowed[module]:
            found.append(f"{where}: imports {module}.{name}, which is not in {module}.__all__")
    return found


def test_the_example_and_the_built_in_drivers_exist():
    sources = driver_sources()
    assert any(path.is_relative_to(EXAMPLE) and not test for path, test in sources)
    assert any(path.is_relative_to(EXAMPLE) and test for path, test in sources)
    assert len({p.relative_to(ROOT).parts[1] for p, _ in sources if p.is_relative_to(ROOT / "drivers")}) >= 5


@pytest.mark.parametrize(
    "path,is_test", driver_sources(), ids=lambda v: str(v.relative_to(ROOT)) if isinstance(v, Path) else ""
)
def test_drivers_import_only_the_public_api(path, is_test):
    problems = violations(path, PUBLIC_IN_TESTS if is_test else PUBLIC)
    assert not problems, "\n".join(problems)


def test_the_checker_catches_a_reach_inside(tmp_path):
    sneaky = tmp_path / "driver.py"
    sneaky.write_text(
        "from hems.sdk import Device, hookimpl\n"
        "from hems.sdk import registry\n"
        "from hems.plugins import registry\n"
        "import hems.devices.models\n"
        "from importlib import import_module\n"
        "models = import_module('hems.devices.models')\n"
    )
    found = violations(sneaky, PUBLIC, root=tmp_path)
    assert [problem.split(":")[1] for problem in found] == ["2", "3", "4", "6"], found


def test_the_example_is_its_own_distribution_in_the_drivers_group():
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    entry_points = project["project"]["entry-points"]["hems.drivers"]
    assert entry_points, "the example registers a driver"
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert not set(entry_points) & set(root["project"]["entry-points"]["hems.drivers"]), "the core does not ship it"
    assert (EXAMPLE / "README.md").exists()
    assert list((EXAMPLE / "hems_appliances" / "migrations").glob("0001_*.py")), "it owns its migrations"


def example_names() -> set[str]:
    """What would betray the example in the core: its driver's name and, read from its
    source (it need not be installed), its kinds' keys, labels, GraphQL types and models."""
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    names = set(project["project"]["entry-points"]["hems.drivers"]) | {project["project"]["name"]}
    package = EXAMPLE / "hems_appliances"
    for node in ast.walk(ast.parse((package / "driver.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "DeviceKind":
            for keyword in node.keywords:
                if keyword.arg in {"key", "label"} and isinstance(keyword.value, ast.Constant):
                    names.add(keyword.value.value)
                if keyword.arg == "key":
                    names.add("".join(part.capitalize() for part in keyword.value.value.split("_")))
    for node in ast.parse((package / "models.py").read_text()).body:
        if isinstance(node, ast.ClassDef):
            names.add(node.name)
    return names


def test_nothing_in_the_core_mentions_the_example():
    """Without the example installed the platform knows nothing of it: no kind, type or
    driver name in the core's code, templates, docs or the committed schema. (Tests
    about it name its folder, examples/hems-appliances, and nothing else of it.)"""
    names = example_names()
    assert {"dishwasher", "Dishwasher", "WashingMachine"} <= names  # the reader, checked once
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b", re.I)
    core = ROOT / "platform" / "hems"
    files = [p for p in core.rglob("*") if p.is_file() and p.suffix in {".py", ".html", ".md", ".txt", ".graphql"}]
    files.append(ROOT / "schema.graphql")
    leaks = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in files
        if path != Path(__file__) and "__pycache__" not in path.parts
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line.replace('"examples" / "hems-appliances"', "").replace("examples/hems-appliances", ""))
    ]
    assert not leaks, "the core mentions the example driver:\n" + "\n".join(leaks)


def documented_names() -> set[str]:
    """Names documented in docs/driver-api.md as headings or table rows: `name`."""
    text = API_DOC.read_text()
    return set(re.findall(r"^(?:#+|\|)\s*`([A-Za-z_][A-Za-z0-9_.]*)", text, re.M))


@pytest.mark.parametrize(
    "module,name", [("hems.sdk", n) for n in hems.sdk.__all__] + [("hems.testing", n) for n in hems.testing.__all__]
)
def test_every_public_name_is_documented(module, name):
    documented = documented_names()
    assert name in documented or f"{module}.{name}" in documented, f"{module}.{name} is missing from {API_DOC.name}"


def test_every_public_name_resolves():
    for name in hems.sdk.__all__:
        assert getattr(hems.sdk, name) is not None, name
    for name in hems.testing.__all__:
        assert getattr(hems.testing, name) is not None, name


def test_the_documented_api_version_is_the_code_s():
    assert f'`API_VERSION` is `"{hems.sdk.API_VERSION}"`' in API_DOC.read_text().replace("'", '"')


@pytest.mark.parametrize(
    "utc,zone,local_date",
    [
        (datetime(2026, 12, 31, 12, 59, tzinfo=UTC), "Australia/Sydney", date(2026, 12, 31)),
        (datetime(2026, 12, 31, 13, 0, tzinfo=UTC), "Australia/Sydney", date(2027, 1, 1)),
        (datetime(2027, 1, 1, 2, 0, tzinfo=UTC), "America/New_York", date(2026, 12, 31)),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Berlin", date(2026, 3, 29)),
        (datetime(2026, 3, 28, 22, 59, tzinfo=UTC), "Europe/Berlin", date(2026, 3, 28)),
        (datetime(2028, 12, 31, 23, 0, tzinfo=UTC), "Pacific/Kiritimati", date(2029, 1, 1)),
    ],
)
def test_batch_local_days_is_the_homes_date(utc, zone, local_date):
    """``Batch.local_days()`` (API 1.1) counts local dates, across New Year and DST."""
    from hems.plugins import registry
    from hems.testing import make_batch

    any_kind = next(iter(registry().kinds.values()))  # the clock is the same for every kind
    batch = make_batch(any_kind.key, utc, [dict(any_kind.example)], time_zone=zone)
    assert batch.local_days().tolist() == [(local_date - date(1970, 1, 1)).days]
