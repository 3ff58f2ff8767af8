"""Each mutation, its payload included, all or nothing.

A mutation's resolver writes, then graphql-core resolves the payload the client
selected (``createDevice { device { energyHistory(...) } }``), which can still fail.
So the savepoint spans the whole top-level field, resolver and payload alike: when any
error arises under it, its writes are rolled back and its answer is null, so a client
never sees an error for a write that stayed, nor data for one that did not. Sibling
mutations keep their own outcome.
"""

from __future__ import annotations

from django.db import transaction
from graphql import get_named_type, is_non_null_type

from hems.api.execution import Execution


def rolls_back_on_error(return_type) -> bool:
    """False for a mutation whose writes must outlive its refusal (the failed-login
    record of the login throttle): its payload class says ``rollback_on_error = False``."""
    graphene_type = getattr(get_named_type(return_type), "graphene_type", None)
    return getattr(graphene_type, "rollback_on_error", True)


class AtomicMutations(Execution):
    """graphql-core's execution, with every top-level mutation field in its own savepoint."""

    @property
    def field_errors(self) -> list:
        # graphql-core 3.2.14 moved the list from ``errors`` into ``collected_errors``.
        collected = getattr(self, "collected_errors", None)
        return collected.errors if collected is not None else self.errors

    def execute_field(self, parent_type, source, field_nodes, path):
        if path.prev is not None or parent_type is not self.schema.mutation_type:
            return super().execute_field(parent_type, source, field_nodes, path)
        field = self.schema.mutation_type.fields.get(field_nodes[0].name.value)
        if field is None or not rolls_back_on_error(field.type):
            return super().execute_field(parent_type, source, field_nodes, path)
        errors_before = len(self.field_errors)
        with transaction.atomic():
            result = super().execute_field(parent_type, source, field_nodes, path)
            if len(self.field_errors) == errors_before:
                return result
            transaction.set_rollback(True)
        if is_non_null_type(field.type):
            # A non-null field cannot answer null: the operation does (graphql-core adds
            # the raised error back to the list).
            raise self.field_errors.pop()
        return None
