"""graphql-core's execution, with its costs per field cut where the answer is known.

graphql-core asks, of every field of every object in an answer: which resolver, with
what info and arguments, is the value awaitable, is it null, what type completes it.
For a scalar read straight off its object (graphene's default resolver: an attribute
or a key), that costs several microseconds, and a year's history by DAY has 2,555 of
them. :class:`Execution` answers those fields at once when the value is a plain,
non-null one that serializes; anything else (null, an error, an awaitable, middleware)
takes graphql-core's own path, so its rules and error messages are unchanged.
"""

from __future__ import annotations

import weakref
from datetime import date, datetime, time
from decimal import Decimal
from functools import cached_property, partial

from graphene.types.resolver import attr_resolver, dict_or_attr_resolver, dict_resolver
from graphql import ExecutionContext, GraphQLObjectType, Undefined, get_named_type, is_leaf_type
from graphql.pyutils import is_awaitable

# Values no resolver could await: graphql-core asks of every value it resolves, and its
# general check (an attribute lookup, which a model instance answers slowly) is most of
# the cost of completing a scalar.
_PLAIN = frozenset({str, int, float, bool, list, tuple, dict, datetime, date, time, Decimal})
_DEFAULT_RESOLVERS = frozenset({dict_or_attr_resolver, attr_resolver, dict_resolver})

# Per object type (the schema's own objects, dropped with it), per field name: the
# field's default resolver and the scalar or enum that serializes it, or None.
_plans: weakref.WeakKeyDictionary[GraphQLObjectType, dict] = weakref.WeakKeyDictionary()


def awaitable(value) -> bool:
    """graphql-core's ``is_awaitable``, answered at once for plain values."""
    return value is not None and type(value) not in _PLAIN and is_awaitable(value)


def read_off(parent_type: GraphQLObjectType, name: str):
    """(resolver, leaf type) when the field is a scalar or enum without arguments that
    graphene's default resolver reads off its object; else None."""
    fields = _plans.get(parent_type)
    if fields is None:
        fields = _plans.setdefault(parent_type, {})
    if name in fields:
        return fields[name]
    field = parent_type.fields.get(name)  # None for __typename: graphql-core's path
    plan = None
    if field is not None and not field.args and isinstance(field.resolve, partial):
        leaf = get_named_type(field.type)
        if field.resolve.func in _DEFAULT_RESOLVERS and is_leaf_type(leaf):
            plan = (field.resolve, leaf)
    fields[name] = plan
    return plan


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

    def execute_field(self, parent_type, source, field_nodes, path):
        plan = read_off(parent_type, field_nodes[0].name.value) if self.resolvers_unwrapped else None
        if plan is not None:
            resolve, leaf = plan
            value = resolve(source, None)  # graphene's default resolvers read no info
            if type(value) in _PLAIN:
                try:
                    serialized = leaf.serialize(value)
                except Exception:  # noqa: BLE001  (graphql-core's path reports it)
                    serialized = None
                if serialized is not None and serialized is not Undefined:
                    return serialized
        return super().execute_field(parent_type, source, field_nodes, path)
