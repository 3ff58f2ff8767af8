"""Bounds on what one request may ask, checked before anything runs."""

from __future__ import annotations

from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, ValidationRule
from graphql.language import BREAK, FragmentDefinitionNode, OperationDefinitionNode

from hems.api.errors import QUERY_TOO_COMPLEX


def query_limits_rule(max_fields: int, max_depth: int) -> type[ValidationRule]:
    """Refuse operations nested deeper than ``max_depth`` or resolving more than
    ``max_fields`` fields, counting every alias and every fragment spread as
    expanded (the "aliased to death" query) and introspection fields too."""

    class QueryLimits(ValidationRule):
        def enter_document(self, document, *_args):
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            for definition in document.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    self.fields, self.depth = 0, 0
                    self._walk(definition.selection_set, fragments, 1, set())
                    if self.depth > max_depth:
                        self._refuse(f"The query is nested deeper than {max_depth} levels.", definition)
                    elif self.fields > max_fields:
                        self._refuse(f"The query asks for more than {max_fields} fields.", definition)
            return BREAK

        def _refuse(self, message, node):
            self.report_error(GraphQLError(message, node, extensions={"code": QUERY_TOO_COMPLEX}))

        def _walk(self, selection_set, fragments, depth: int, active: set[str]) -> None:
            for selection in selection_set.selections if selection_set else ():
                if self.fields > max_fields or self.depth > max_depth:
                    return  # refused already; stop counting early
                if isinstance(selection, FieldNode):
                    self.fields += 1
                    self.depth = max(self.depth, depth)
                    if selection.selection_set:
                        self._walk(selection.selection_set, fragments, depth + 1, active)
                elif isinstance(selection, InlineFragmentNode):
                    self._walk(selection.selection_set, fragments, depth, active)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = fragments.get(name)
                    if fragment is not None and name not in active:  # unknown or cyclic: standard rules say so
                        self._walk(fragment.selection_set, fragments, depth, active | {name})

    return QueryLimits


class NoSchemaIntrospection(ValidationRule):
    """Refuse ``__schema`` and ``__type`` (the schema's shape) but not ``__typename``,
    which clients add to every selection of an interface (graphene's own
    DisableIntrospection refuses it too, and with it every Apollo client)."""

    def enter_field(self, node: FieldNode, *_args):
        if node.name.value in {"__schema", "__type"}:
            self.report_error(GraphQLError(f"Cannot query '{node.name.value}': introspection is disabled.", node))
