"""The printed schema is committed: any change to the API shows up as a diff."""

from dataclasses import replace
from pathlib import Path

from graphql import print_schema

from hems.api.schema import build_schema
from hems.plugins import registry

COMMITTED = Path(__file__).resolve().parents[4] / "schema.graphql"


def shipped_registry():
    """The registry of the drivers shipped in this repository (others may be installed)."""
    reg = registry()
    shipped = {name for name, d in reg.drivers.items() if d.module.startswith("drivers.")}
    kinds = {key: kind for key, kind in reg.kinds.items() if reg.driver_of_kind(key).name in shipped}
    return replace(reg, kinds=kinds)


def test_the_committed_schema_is_current():
    printed = print_schema(build_schema(shipped_registry()).graphql_schema)
    assert COMMITTED.read_text().strip() == printed.strip(), (
        "The GraphQL schema changed: run `python manage.py graphql_schema --out schema.graphql` and commit it."
    )
