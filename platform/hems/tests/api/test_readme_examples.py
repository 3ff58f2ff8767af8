"""The README's GraphQL examples are valid against the schema, so the docs stay true."""

import re
from pathlib import Path

import pytest
from graphql import parse, validate

from hems.api.schema import schema

README = Path(__file__).resolve().parents[4] / "README.md"


def examples() -> list[str]:
    blocks = re.findall(r"```graphql\n(.*?)```", README.read_text(), re.S)
    documents: list[str] = []
    for block in blocks:
        for line in block.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line.startswith(("mutation", "{", "query")):
                documents.append(line)
            else:
                documents[-1] += "\n" + line
    return documents


@pytest.mark.parametrize("document", examples())
def test_readme_example_is_valid(document):
    assert validate(schema.graphql_schema, parse(document)) == []


def test_the_readme_shows_every_operation():
    text = "\n".join(examples())
    fields = {**schema.graphql_schema.query_type.fields, **schema.graphql_schema.mutation_type.fields}
    missing = [name for name in fields if not re.search(rf"\b{name}\b", text)]
    assert not missing, f"README.md has no example for {missing}"
