"""Bounds on what one request may ask, checked before anything else looks at it.

One walk over the document measures each operation and fragment: how deep it nests,
how many fields it names (aliases and fragment spreads expanded) and its cost, what its
lists will return: a list field multiplies its subtree by its expected size (see
:func:`list_size`). Each fragment is measured once and reused wherever it is spread, so
the walk is linear in the document however its fragments nest or repeat; a cyclic
spread adds nothing here (graphql-core's NoFragmentCycles rule names it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from graphene.types.datetime import DateTime
from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.language import (
    BREAK,
    EnumValueNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    StringValueNode,
    VariableNode,
)
from graphql.utilities.type_info import get_field_def
from graphql.validation.validate import ValidationAbortedError

from hems.api.errors import QUERY_TOO_COMPLEX

# What one request may cost: each value a list answers counts one, and each field of
# each of them. 50,000 is three energyHistory of the most buckets (2,000) with every
# field, or a month by hour (744 buckets) with room to spare, and about 1.5 MB of JSON.
MAX_COST = 50_000
# The expected length of a list whose size nothing in the request tells (allDevices).
LIST_ESTIMATE = 100
# A bucket's shortest span per interval: a day across a daylight-saving change lasts
# 23 hours, a month 28 days.
SHORTEST_BUCKET_S = {"HOUR": 3600, "DAY": 23 * 3600, "WEEK": 7 * 86400 - 3600, "MONTH": 28 * 86400 - 3600}


@dataclass(frozen=True)
class Limits:
    max_fields: int
    max_depth: int
    max_buckets: int
    max_cost: int = MAX_COST
    list_estimate: int = LIST_ESTIMATE


@dataclass(frozen=True)
class Measure:
    fields: int = 0
    depth: int = 0
    cost: int = 0


NOTHING = Measure()


def history_buckets(arguments: dict, limits: Limits) -> int:
    """How many buckets an ``energyHistory`` of these arguments answers at most: known
    from its range and interval, the most it may answer when they are not readable
    (the resolver refuses those, but this runs first)."""
    try:
        # The API's own DateTime parsing: what the resolver will be given.
        span = (DateTime.parse_value(arguments["end"]) - DateTime.parse_value(arguments["start"])).total_seconds()
        shortest = SHORTEST_BUCKET_S[arguments["interval"]]
    except (GraphQLError, KeyError, TypeError, ValueError, OverflowError):
        return limits.max_buckets
    if span <= 0:
        return 1
    # A range may start and end part-way through a bucket: one more at each end.
    return min(limits.max_buckets, math.floor(span / shortest) + 2)


# The lists whose length the request itself tells, by field name.
LIST_SIZES = {"energyHistory": history_buckets}


def list_size(node: FieldNode, field_def, variables: dict, limits: Limits) -> int:
    """How many items a field answers: 1 unless it is a list. Introspection's lists
    count 1: their size is the schema's, fixed and small, and introspection is off in
    production."""
    if field_def is None or not is_list_type(get_nullable_type(field_def.type)):
        return 1
    if get_named_type(field_def.type).name.startswith("__"):
        return 1
    size = LIST_SIZES.get(node.name.value)
    return size(argument_values(node, variables), limits) if size else limits.list_estimate


def argument_values(node: FieldNode, variables: dict) -> dict:
    """A field's arguments as sent: a literal's text, a variable's JSON value."""
    values = {}
    for argument in node.arguments:
        value = argument.value
        if isinstance(value, VariableNode):
            values[argument.name.value] = variables.get(value.name.value)
        elif isinstance(value, StringValueNode | EnumValueNode):
            values[argument.name.value] = value.value
    return values


class Measurer:
    """Measures a document's definitions; each number stops one past its limit
    (a refusal needs no more), so even a document of fragments spread 5 times at each
    of 50 levels is counted with small numbers."""

    def __init__(self, schema, document, variables: dict | None, limits: Limits):
        self.schema, self.limits = schema, limits
        self.variables = variables if isinstance(variables, dict) else {}
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.measured: dict[str, Measure] = {}
        for name in self.fragments:
            self._measure_fragments_from(name)

    def _capped(self, fields: int, depth: int, cost: int) -> Measure:
        limits = self.limits
        return Measure(
            min(fields, limits.max_fields + 1), min(depth, limits.max_depth + 1), min(cost, limits.max_cost + 1)
        )

    def _measure_fragments_from(self, root: str) -> None:
        """Measure ``root`` and the fragments it spreads, each after the ones it spreads,
        without recursion (a chain of fragments may be as long as the query allows)."""
        if root in self.measured:
            return
        path = [(root, iter(spreads_in(self.fragments[root].selection_set)))]
        on_path = {root}
        while path:
            name, spreads = path[-1]
            for spread in spreads:
                if spread in self.fragments and spread not in self.measured and spread not in on_path:
                    path.append((spread, iter(spreads_in(self.fragments[spread].selection_set))))
                    on_path.add(spread)
                    break
            else:
                path.pop()
                on_path.discard(name)
                fragment = self.fragments[name]
                self.measured[name] = self.selection_set(fragment.selection_set, self.type_named(fragment))

    def type_named(self, node):
        condition = node.type_condition
        return self.schema.get_type(condition.name.value) if condition is not None else None

    def selection_set(self, selection_set, parent_type) -> Measure:
        fields = depth = cost = 0
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent_type)
            elif isinstance(selection, InlineFragmentNode):
                part = self.selection_set(selection.selection_set, self.type_named(selection) or parent_type)
            elif isinstance(selection, FragmentSpreadNode):
                # Unknown, or closing a cycle while its fragments are measured: nothing.
                part = self.measured.get(selection.name.value, NOTHING)
            fields, depth, cost = fields + part.fields, max(depth, part.depth), cost + part.cost
        return self._capped(fields, depth, cost)

    def field(self, node: FieldNode, parent_type) -> Measure:
        field_def = get_field_def(self.schema, parent_type, node) if parent_type is not None else None
        inner = self.selection_set(node.selection_set, get_named_type(field_def.type) if field_def else None)
        size = list_size(node, field_def, self.variables, self.limits)
        # A type reference's `ofType` unwraps one non-null or list wrapper: a single
        # object, not a level of data, so the standard introspection query (GraphiQL's,
        # seven levels of it) is not refused for depth.
        depth = max(1, inner.depth) if node.name.value == "ofType" else 1 + inner.depth
        return self._capped(1 + inner.fields, depth, size * (1 + inner.cost))

    def refusal(self, measure: Measure) -> str | None:
        limits = self.limits
        if measure.depth > limits.max_depth:
            return f"The query is nested deeper than {limits.max_depth} levels."
        if measure.fields > limits.max_fields:
            return f"The query asks for more than {limits.max_fields} fields."
        if measure.cost > limits.max_cost:
            return (
                f"The query would answer more than {limits.max_cost} values (each list counted at its "
                f"expected length: energyHistory its buckets, other lists {limits.list_estimate}); "
                "ask for fewer or shorter lists."
            )
        return None


def spreads_in(selection_set) -> list[str]:
    """The fragments a selection set spreads, at any depth (without recursion)."""
    names, stack = [], [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif selection.selection_set is not None:
                stack.append(selection.selection_set)
    return names


def too_complex(schema, document, variables: dict | None, limits: Limits) -> GraphQLError | None:
    """Why the document asks too much (``QUERY_TOO_COMPLEX``), or None. Every operation
    and every fragment must fit, so nothing oversized reaches the other rules."""
    measurer = Measurer(schema, document, variables, limits)
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(definition.operation)
            measure = measurer.selection_set(definition.selection_set, root)
        elif isinstance(definition, FragmentDefinitionNode):
            measure = measurer.measured[definition.name.value]
        else:
            continue
        message = measurer.refusal(measure)
        if message is not None:
            return GraphQLError(message, definition, extensions={"code": QUERY_TOO_COMPLEX})
    return None


def query_limits_rule(limits: Limits, variables: dict | None = None) -> type[ValidationRule]:
    """A validation rule refusing documents beyond ``limits``; put it first: a refusal
    aborts the validation, so no other rule spends time on the document."""

    class QueryLimits(ValidationRule):
        def enter_document(self, document, *_args):
            error = too_complex(self.context.schema, document, variables, limits)
            if error is not None:
                raise ValidationAbortedError(error.message, error.nodes, extensions=error.extensions)
            return BREAK

    return QueryLimits


class NoSchemaIntrospection(ValidationRule):
    """Refuse ``__schema`` and ``__type`` (the schema's shape) but not ``__typename``,
    which clients add to every selection of an interface (graphene's own
    DisableIntrospection refuses it too, and with it every Apollo client)."""

    def enter_field(self, node: FieldNode, *_args):
        if node.name.value in {"__schema", "__type"}:
            self.report_error(GraphQLError(f"Cannot query '{node.name.value}': introspection is disabled.", node))
