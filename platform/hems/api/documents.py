"""Parsed and validated documents, kept per (schema, query text, rules) in a bounded LRU.

A client sends the same few queries again and again; parsing and validating one costs
about as much as answering ``energyStats``. graphql-core's validation of a document is
deterministic for a schema and a list of rules, so a document that passed is kept and
reused. The one rule that reads the request's variables (the cost of the lists,
:mod:`hems.api.limits`) is measured again for each request of a document that declares
variables; everything else is decided once. A document that failed (a syntax error, a
refusal) is never kept: it is checked afresh, exactly as before, each time it comes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings
from graphene_django.settings import graphene_settings
from graphql import DocumentNode, GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate

from hems.api.limits import Limits, too_complex

# At most this many documents, and this much query text in all (a document's syntax
# tree is some tens of times its text): a few MB per process whatever clients send.
MAX_DOCUMENTS = 256
MAX_TEXT = 256_000


@dataclass(frozen=True)
class Checked:
    """A document that passed validation, and whether its cost depends on variables."""

    document: DocumentNode
    reads_variables: bool


class DocumentCache:
    """A least-recently-used map of checked documents, bounded in count and in text."""

    def __init__(self, max_documents: int = MAX_DOCUMENTS, max_text: int = MAX_TEXT):
        self.max_documents, self.max_text = max_documents, max_text
        self._entries: OrderedDict[tuple, Checked] = OrderedDict()
        self._text = 0
        self._lock = threading.Lock()  # gunicorn's threads share it

    def get(self, key: tuple) -> Checked | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: Checked) -> None:
        size = len(key[1])
        if size > self.max_text:
            return
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = entry
            self._text += size
            while len(self._entries) > self.max_documents or self._text > self.max_text:
                old_key, _ = self._entries.popitem(last=False)
                self._text -= len(old_key[1])

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._text = 0

    def __len__(self) -> int:
        return len(self._entries)


documents = DocumentCache()


def limits() -> Limits:
    """The request limits as set now (tests override the settings)."""
    return Limits(
        max_fields=settings.HEMS_GRAPHQL_MAX_FIELDS,
        max_depth=settings.HEMS_GRAPHQL_MAX_DEPTH,
        max_buckets=settings.HEMS_HISTORY_MAX_BUCKETS,
    )


def declares_variables(document: DocumentNode) -> bool:
    return any(
        isinstance(definition, OperationDefinitionNode) and definition.variable_definitions
        for definition in document.definitions
    )


def checked_document(
    schema: GraphQLSchema, query: str, variables: dict | None, rules
) -> tuple[DocumentNode | None, list[GraphQLError]]:
    """The parsed document of ``query`` and its validation errors under ``rules(variables)``
    (:func:`hems.api.view.validation_rules`), the document None when it does not parse.

    Reused from :data:`documents` when the same text passed under the same schema and
    settings; its cost is then measured again with these variables if it declares any.
    """
    current = limits()
    key = (schema, query, current, settings.HEMS_GRAPHQL_INTROSPECTION, graphene_settings.MAX_VALIDATION_ERRORS)
    entry = documents.get(key)
    if entry is not None:
        if entry.reads_variables:
            error = too_complex(schema, entry.document, variables, current)
            if error is not None:
                return entry.document, [error]
        return entry.document, []
    try:
        document = parse(query)
    except Exception as error:  # a syntax error, or nesting beyond the parser: as graphene-django
        return None, [error]
    errors = validate(schema, document, rules(variables), graphene_settings.MAX_VALIDATION_ERRORS)
    if not errors:
        documents.put(key, Checked(document, declares_variables(document)))
    return document, errors
