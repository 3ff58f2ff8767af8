"""The plugin framework: discovery, the registry, and the contract of a kind."""

from __future__ import annotations

import ast
import inspect
import platform as stdlib_platform
import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from hems import hookspecs
from hems.devices.models import Device
from hems.plugins import InvalidKind, registry, validate_kind
from hems.sdk import DeviceKind, DeviceType

CORE = Path(__file__).resolve().parents[1]


def test_the_five_builtin_drivers_and_their_six_kinds_are_loaded():
    reg = registry()
    assert {name for name, d in reg.drivers.items() if d.status == "loaded"} >= {
        "solar",
        "generator",
        "battery",
        "ev",
        "hvac",
    }
    assert len(reg.kinds) >= 6


def test_manage_drivers_lists_name_version_module_kinds_and_types():
    out = StringIO()
    call_command("drivers", stdout=out)
    text = out.getvalue()
    for driver in registry().drivers.values():
        assert re.search(
            rf"^{driver.name}\s+{re.escape(driver.version)}\s+{re.escape(driver.module)}\s+loaded", text, re.M
        )
        for kind in driver.kinds:
            assert f"{kind.key} ({kind.device_type})" in text
    assert f"{len(registry().kinds)} device kind(s)" in text


def some_kind() -> DeviceKind:
    return next(iter(registry().kinds.values()))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"key": "Not Snake"}, "snake_case"),
        ({"device_type": "teleportation"}, "device_type"),
        ({"model": Device}, "subclass"),
        ({"model": str}, "subclass"),
        ({"fields": ("no_such_field",)}, "no_such_field"),
    ],
)
def test_an_invalid_kind_is_refused_with_the_reason(changes, message):
    kind = some_kind()
    values = {f: getattr(kind, f) for f in ("key", "label", "device_type", "model", "fields")}
    bad = DeviceKind(**{**values, **changes})
    with pytest.raises(InvalidKind, match=message):
        validate_kind(bad, kind.model._meta.app_label)


def test_a_kind_must_live_in_its_drivers_own_app():
    kind = some_kind()
    with pytest.raises(InvalidKind, match="belongs to app"):
        validate_kind(kind, "someone_else")


def test_storage_kinds_and_only_they_use_a_storage_model():
    storage = next(k for k in registry().kinds.values() if k.device_type == DeviceType.STORAGE)
    other = next(k for k in registry().kinds.values() if k.device_type != DeviceType.STORAGE)
    with pytest.raises(InvalidKind, match="storage"):
        validate_kind(
            DeviceKind(storage.key, storage.label, DeviceType.PRODUCTION, storage.model, ()),
            storage.model._meta.app_label,
        )
    with pytest.raises(InvalidKind, match="storage"):
        validate_kind(
            DeviceKind(other.key, other.label, DeviceType.STORAGE, other.model, ()), other.model._meta.app_label
        )


def test_every_hookspec_is_documented_for_driver_authors():
    specs = [f for name, f in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(f, "hems_spec")]
    assert specs, "no hookspec found"
    for spec in specs:
        doc = inspect.getdoc(spec) or ""
        assert len(doc) > 200, f"{spec.__name__} needs a docstring a driver author can work from"
        for param in inspect.signature(spec).parameters:
            assert f":param {param}:" in doc, f"{spec.__name__} does not document {param}"
    assert len(inspect.getdoc(hookspecs.Simulate)) > 200


def test_the_standard_library_platform_module_is_not_shadowed():
    assert hasattr(stdlib_platform, "python_version")
    assert not (CORE.parent / "__init__.py").exists()


def core_files():
    return [p for p in CORE.rglob("*") if p.is_file() and p.suffix in {".py", ".html", ".md", ".txt"}]


def test_the_core_names_no_device_kind():
    """If a kind's or a driver's name appears in the core, the design leaked."""
    reg = registry()
    names = set()
    for driver in reg.drivers.values():
        if driver.module.startswith("drivers."):
            names.add(driver.name)
            for kind in driver.kinds:
                names |= {kind.key, kind.type_name, kind.model.__name__, kind.label}
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b", re.I)
    leaks = []
    for path in core_files():
        if path == Path(__file__):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if pattern.search(line):
                leaks.append(f"{path.relative_to(CORE)}:{number}: {line.strip()}")
    assert not leaks, "the core names a device kind:\n" + "\n".join(leaks)


def test_the_core_never_imports_a_driver():
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("drivers"), f"{path} imports {node.module}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("drivers") for a in node.names), f"{path} imports a driver"
