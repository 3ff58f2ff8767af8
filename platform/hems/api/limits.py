"""Bounds on what one request may ask, checked before anything runs."""

from __future__ import annotations

from graphql import FieldNode, FragmentSpreadNode, GraphQLError, InlineFragmentNode, ValidationRule
from graphql.language import FragmentDefinitionNode, OperationDefinitionNode

from hems.api.errors import QUERY_TOO_COMPLEX


def max_fields_rule(limit: int) -> type[ValidationRule]:
    """Refuse operations that would resolve more than ``limit`` fields, counting every
    alias and every fragment spread as expanded (the "aliased to death" query)."""

    class MaxFields(ValidationRule):
        def enter_document(self, document, *_args):
            fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
            for definition in document.definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                count = self._count(definition.selection_set, fragments, limit + 1, set())
                if count > limit:
                    self.report_error(
                        GraphQLError(
                            f"The query asks for more than {limit} fields.",
                            definition,
                            extensions={"code": QUERY_TOO_COMPLEX},
                        )
                    )
            return self.BREAK

        def _count(self, selection_set, fragments, budget: int, active: set[str]) -> int:
            total = 0
            for selection in selection_set.selections if selection_set else ():
                if total >= budget:
                    break
                if isinstance(selection, FieldNode):
                    total += 1
                    if selection.selection_set:
                        total += self._count(selection.selection_set, fragments, budget - total, active)
                elif isinstance(selection, InlineFragmentNode):
                    total += self._count(selection.selection_set, fragments, budget - total, active)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = fragments.get(name)
                    if fragment is None or name in active:
                        continue  # unknown or cyclic: the standard rules report it
                    total += self._count(fragment.selection_set, fragments, budget - total, active | {name})
            return total

    return MaxFields
