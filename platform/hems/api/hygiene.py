"""Text PostgreSQL cannot hold: a NUL character anywhere in a request is bad input.

PostgreSQL refuses NUL in text (in a stored value and in a query parameter alike), so a
username, token or name with one would fail deep in the database as an internal error.
It is refused up front instead, wherever it is: in a variable or in a string literal.
"""

from __future__ import annotations

from graphql import GraphQLError, StringValueNode, ValidationRule

from hems.api.errors import bad_input

NUL = "\x00"


def nul_path(value, path: str = "") -> str | None:
    """The dotted path of the first string holding a NUL in a variables value, if any."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), item) for i, item in enumerate(value))
    else:
        return None
    for key, item in items:
        if NUL in str(key):
            return f"{path}.{key}".strip(".")
        found = nul_path(item, f"{path}.{key}".strip("."))
        if found is not None:
            return found
    return None


def nul_in_variables(variables) -> GraphQLError | None:
    path = nul_path(variables or {})
    if path is None:
        return None
    return bad_input(f"{path}: text may not contain NUL characters.", field=path.split(".")[-1] or None)


class NoNulInLiterals(ValidationRule):
    """A string literal in the query itself (``"a\\u0000b"``) holding a NUL."""

    def enter_string_value(self, node: StringValueNode, *_args):
        if NUL in node.value:
            error = bad_input("Text may not contain NUL characters.")
            self.report_error(GraphQLError(error.message, node, extensions=error.extensions))
