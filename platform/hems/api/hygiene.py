"""Text hems cannot store or encode, and values nested beyond reason, refused up front.

PostgreSQL refuses NUL in text, and a lone UTF-16 surrogate (``"a\\ud800b"``, which
JSON's ``\\u`` escapes can carry) cannot be encoded as UTF-8 at all, so a username,
token or name holding either would fail deep in the database, a password hasher or a
JWT library as an internal error. Both are bad input wherever they are: in a variable
(key or value) or in a string literal. Variables nested deeper than any input of the
API are refused too, before anything walks them.
"""

from __future__ import annotations

import re

from graphql import GraphQLError, StringValueNode, ValidationRule

from hems.api.errors import bad_input

NUL = "\x00"
# Deeper than any input of the API (an input object inside an input object, a list).
MAX_VARIABLES_DEPTH = 32
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """What in ``text`` hems cannot store, said for a message, or None."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    return "NUL characters" if found.group() == NUL else "lone UTF-16 surrogates (not Unicode text)"


def deeper_than(value, limit: int) -> bool:
    """Whether lists and objects nest in ``value`` more than ``limit`` levels (no recursion)."""
    stack = [(value, 0)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth == limit:
                return True
            stack.extend((item, depth + 1) for item in (value.values() if isinstance(value, dict) else value))
    return False


def unstorable_path(value, path: str = "") -> tuple[str, str] | None:
    """The dotted path of the first text in a (depth-checked) variables value that hems
    cannot store, and what is wrong with it, if any."""
    if isinstance(value, str):
        problem = unstorable(value)
        return (path, problem) if problem else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = ((str(i), item) for i, item in enumerate(value))
    else:
        return None
    for key, item in items:
        here = f"{path}.{key}".strip(".")
        problem = unstorable(str(key))
        if problem:
            return here, problem
        found = unstorable_path(item, here)
        if found is not None:
            return found
    return None


def refuse_variables(variables) -> GraphQLError | None:
    """``BAD_USER_INPUT`` for variables nested too deeply or holding text hems cannot
    store, or None."""
    if not variables:
        return None
    if deeper_than(variables, MAX_VARIABLES_DEPTH):
        return bad_input(f"Variables may nest at most {MAX_VARIABLES_DEPTH} levels deep.")
    found = unstorable_path(variables)
    if found is None:
        return None
    path, problem = found
    return bad_input(f"{path}: text may not contain {problem}.", field=path.split(".")[-1] or None)


def refuse_text(name: str, text) -> GraphQLError | None:
    """``BAD_USER_INPUT`` for a request's own text (its query, its operation name)
    holding what hems cannot store, or None."""
    problem = unstorable(text) if isinstance(text, str) else None
    return bad_input(f"{name}: text may not contain {problem}.", field=name) if problem else None


class StorableLiterals(ValidationRule):
    """A string literal in the query itself (``"a\\u0000b"``) that hems cannot store.
    (graphql-core's lexer already refuses a lone surrogate in a literal as a syntax
    error; this rule holds whatever text gets through.)"""

    def enter_string_value(self, node: StringValueNode, *_args):
        problem = unstorable(node.value)
        if problem:
            error = bad_input(f"Text may not contain {problem}.")
            self.report_error(GraphQLError(error.message, node, extensions=error.extensions))
