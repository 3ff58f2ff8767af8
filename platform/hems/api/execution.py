"""graphql-core's execution, with its costs per field cut where the answer is known.

graphql-core asks, of every field of every object in an answer: which resolver, with
what info and arguments, is the value awaitable, is it null, what type completes it.
For a scalar read straight off its object (graphene's default resolver: an attribute
or a key), that costs several microseconds, and a year's history by DAY has 2,555 of
them. :class:`Execution` answers those fields at once when the value is a plain,
non-null one that serializes; anything else (null, an error, an awaitable, middleware)
takes graphql-core's own path, so its rules and error messages are unchanged. A scalar
that a resolver of its own returns is resolved by graphql-core and, when plain,
serialized at once.

An object whose selected fields are all such scalars is read in one loop, and a list of
such objects likewise (365 days of history): no path, no info, no completion step per
field or per item. If any value of it is not plain, the object (or the whole list) is
completed again by graphql-core's path; the default resolvers only read, so reading twice
changes nothing.
"""

from __future__ import annotations

import weakref
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property, partial
from math import isfinite

from graphene.types.resolver import attr_resolver, dict_or_attr_resolver, dict_resolver
from graphql import (
    ExecutionContext,
    GraphQLObjectType,
    Undefined,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
    is_object_type,
)
from graphql.pyutils import is_awaitable
from graphql.type.scalars import GraphQLFloat

_FLOAT = GraphQLFloat.serialize

# Values no resolver could await: graphql-core asks of every value it resolves, and its
# general check (an attribute lookup, which a model instance answers slowly) is most of
# the cost of completing a scalar.
_PLAIN = frozenset({str, int, float, bool, list, tuple, dict, datetime, date, time, Decimal})
# graphene's default resolvers, by what they read: a key of a dict or an attribute.
_DICT_OR_ATTR, _ATTR, _DICT = dict_or_attr_resolver, attr_resolver, dict_resolver
_DEFAULT_RESOLVERS = frozenset({_DICT_OR_ATTR, _ATTR, _DICT})

# Per object type (the schema's own objects, dropped with it), per field name: what the
# field's default resolver reads and the scalar or enum that serializes it, or None.
_plans: weakref.WeakKeyDictionary[GraphQLObjectType, dict] = weakref.WeakKeyDictionary()


# A field's value graphql-core's own path must complete (see ``answer``).
COMPLETE = object()


def awaitable(value) -> bool:
    """graphql-core's ``is_awaitable``, answered at once for plain values."""
    return value is not None and type(value) not in _PLAIN and is_awaitable(value)


def read_off(parent_type: GraphQLObjectType, name: str):
    """(default resolver, name read, default value, serialize, nullable) when the field is
    a scalar or enum without arguments that graphene's default resolver reads off its
    object; else None."""
    fields = _plans.get(parent_type)
    if fields is None:
        fields = _plans.setdefault(parent_type, {})
    if name in fields:
        return fields[name]
    field = parent_type.fields.get(name)  # None for __typename: graphql-core's path
    plan = None
    if field is not None and not field.args and isinstance(field.resolve, partial):
        leaf = get_named_type(field.type)
        resolve = field.resolve
        if resolve.func in _DEFAULT_RESOLVERS and not resolve.keywords and is_leaf_type(leaf):
            attname, default = resolve.args  # graphene's partial(resolver, name, default)
            plan = (resolve.func, attname, default, leaf.serialize, not is_non_null_type(field.type))
    fields[name] = plan
    return plan


def serialized(plan, source):
    """The scalar a ``read_off`` plan reads off ``source``, as ``answer``."""
    reads, attname, default, serialize, nullable = plan
    # What graphene's resolver would return, without its two calls.
    if reads is _ATTR or (reads is _DICT_OR_ATTR and not isinstance(source, dict)):
        value = getattr(source, attname, default)
    else:
        value = source.get(attname, default)
    return answer(value, serialize, nullable)


def answer(value, serialize, nullable: bool):
    """A leaf field's value serialized (None for null in a nullable field); ``COMPLETE``
    where graphql-core's path must answer (a value not plain, null where it is required,
    or one that does not serialize, which graphql-core reports)."""
    kind = type(value)
    if kind is float and serialize is _FLOAT:  # graphql-core returns a finite float as it is
        return value if isfinite(value) else COMPLETE
    if value is None:
        return None if nullable else COMPLETE
    if kind not in _PLAIN:
        return COMPLETE
    try:
        out = serialize(value)
    except Exception:  # noqa: BLE001  (graphql-core's path reports it)
        return COMPLETE
    return COMPLETE if out is None or out is Undefined else out


def read_object(plans, source) -> dict | None:
    """Every field of ``plans`` (response name, plan) read off ``source``, or None if one
    must take graphql-core's path."""
    results = {}
    for name, plan in plans:
        value = serialized(plan, source)
        if value is COMPLETE:
            return None
        results[name] = value
    return results


class Execution(ExecutionContext):
    """graphql-core's execution, its question "awaitable?" answered at once for plain
    values, and scalars read off their object completed at once (see the module).
    Queries run with it; mutations with ``hems.api.atomic.AtomicMutations``."""

    is_awaitable = staticmethod(awaitable)

    @cached_property
    def resolvers_unwrapped(self) -> bool:
        """No middleware wraps the resolvers (graphene-django passes an empty list)."""
        manager = self.middleware_manager
        return manager is None or not manager.middlewares

    @cached_property
    def _object_plans(self) -> dict:
        return {}

    def plans_of(self, parent_type, fields) -> list | None:
        """[(response name, plan)] when every field selected of ``parent_type`` is a
        scalar read off its object; else None. ``fields`` is graphql-core's collected
        selection, one dict per object type and selection for the whole execution."""
        known = self._object_plans.get(id(fields))
        if known is None or known[0] is not fields:  # kept with it, so its id stays its own
            plans = [(name, read_off(parent_type, nodes[0].name.value)) for name, nodes in fields.items()]
            known = self._object_plans[id(fields)] = (fields, None if any(p is None for _, p in plans) else plans)
        return known[1]

    def execute_field(self, parent_type, source, field_nodes, path):
        plan = read_off(parent_type, field_nodes[0].name.value) if self.resolvers_unwrapped else None
        if plan is not None:
            value = serialized(plan, source)
            if value is not COMPLETE:
                return value
        return super().execute_field(parent_type, source, field_nodes, path)

    @cached_property
    def _leaves(self) -> dict:
        return {}

    def complete_value(self, return_type, field_nodes, info, path, result):
        # A leaf field's plain value (from a resolver of its own: read-off ones are
        # answered before) serialized at once, without graphql-core's walk of its type.
        leaf = self._leaves.get(return_type)
        if leaf is None:
            required = is_non_null_type(return_type)
            named = return_type.of_type if required else return_type
            leaf = self._leaves[return_type] = (named.serialize, not required) if is_leaf_type(named) else ()
        if leaf:
            completed = answer(result, *leaf)
            if completed is not COMPLETE:
                return completed
        return super().complete_value(return_type, field_nodes, info, path, result)

    def execute_fields(self, parent_type, source_value, path, fields):
        plans = self.plans_of(parent_type, fields) if self.resolvers_unwrapped else None
        if plans is not None:
            results = read_object(plans, source_value)
            if results is not None:
                return results
        return super().execute_fields(parent_type, source_value, path, fields)

    def complete_list_value(self, return_type, field_nodes, info, path, result):
        item_type = return_type.of_type
        object_type = item_type.of_type if is_non_null_type(item_type) else item_type
        if (
            self.resolvers_unwrapped
            and type(result) in (list, tuple)
            and is_object_type(object_type)
            and object_type.is_type_of is None
        ):
            plans = self.plans_of(object_type, self.collect_subfields(object_type, field_nodes))
            if plans is not None:
                completed = []
                for item in result:
                    results = None if item is None else read_object(plans, item)
                    if results is None:  # a null item, or a value to report: all of it as graphql-core does
                        break
                    completed.append(results)
                else:
                    return completed
        return super().complete_list_value(return_type, field_nodes, info, path, result)
