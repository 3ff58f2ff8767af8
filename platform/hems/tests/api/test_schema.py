"""The printed schema is committed: any change to the API shows up as a diff.

The snapshot covers the drivers this repository ships (the entry points of its own
pyproject.toml), so it holds whatever else is installed: a third-party driver, such
as examples/hems-appliances, adds its own types beside them and changes none of
these (another test checks that the full schema still contains every committed type).
"""

import tomllib
from dataclasses import replace
from pathlib import Path

from graphql import build_schema as parse_schema
from graphql import print_schema

from hems.api.schema import build_schema
from hems.plugins import registry

ROOT = Path(__file__).resolve().parents[4]
COMMITTED = ROOT / "schema.graphql"
SHIPPED = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"]["hems.drivers"])


def shipped_registry():
    """The registry of the drivers shipped in this repository (others may be installed)."""
    reg = registry()
    kinds = {key: kind for key, kind in reg.kinds.items() if reg.driver_of_kind(key).name in SHIPPED}
    return replace(reg, kinds=kinds)


def test_the_committed_schema_is_current():
    printed = print_schema(build_schema(shipped_registry()).graphql_schema)
    others = sorted(set(registry().drivers) - SHIPPED)
    disable = f"HEMS_DISABLED_DRIVERS={','.join(others)} " if others else ""
    command = f"{disable}python manage.py graphql_schema --out schema.graphql"
    assert COMMITTED.read_text().strip() == printed.strip(), f"The GraphQL schema changed: run `{command}`, commit it."


def test_other_installed_drivers_only_add_to_it():
    """Installed third-party kinds add types and input fields; every committed type and
    field is still there, unchanged, in the schema the server really serves."""
    committed = parse_schema(COMMITTED.read_text())
    served = build_schema(registry()).graphql_schema
    for name, committed_type in committed.type_map.items():
        if name.startswith("__"):
            continue
        served_type = served.get_type(name)
        assert served_type is not None, f"{name} is missing from the served schema"
        for field_name, field in getattr(committed_type, "fields", {}).items():
            assert field_name in served_type.fields, f"{name}.{field_name} is missing"
            assert str(served_type.fields[field_name].type) == str(field.type), f"{name}.{field_name} changed type"
        if hasattr(committed_type, "values"):
            assert set(committed_type.values) == set(served_type.values), f"{name}'s values changed"
