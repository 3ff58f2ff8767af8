"""The API's figures: each GraphQL request over HTTP, its latency and its error codes.

Labels stay bounded whatever clients send: the operation is the one root field the
request selects when the schema has it (``energyStats``, ``createDevice``), else
``other`` (several root fields, an unknown one, no document); the type is ``query``,
``mutation``, ``subscription`` or ``unknown``; a code that is not one hems could have
written counts as ``OTHER``.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import time

from django.conf import settings
from graphql import FieldNode, get_operation_ast, parse

from hems.metrics import definitions as m

logger = logging.getLogger("hems.metrics")

OTHER = "other"
UNKNOWN = "unknown"
CODE = re.compile(r"[A-Z][A-Z0-9_]{0,39}")


@functools.cache
def root_fields() -> dict[str, frozenset[str]]:
    """The schema's root fields by operation type."""
    from hems.api.schema import schema

    graphql_schema = schema.graphql_schema
    types = {
        "query": graphql_schema.query_type,
        "mutation": graphql_schema.mutation_type,
        "subscription": graphql_schema.subscription_type,
    }
    return {kind: frozenset(t.fields) if t else frozenset() for kind, t in types.items()}


@functools.lru_cache(maxsize=512)
def operation_labels(query: str | None, operation_name: str | None) -> tuple[str, str]:
    """(operation type, root field or ``other``) of a request's document. Clients send the
    same few documents again and again, so each is parsed once."""
    if not isinstance(query, str) or not query or len(query) > settings.HEMS_GRAPHQL_MAX_QUERY_LENGTH:
        return UNKNOWN, OTHER
    try:
        operation = get_operation_ast(parse(query, no_location=True), operation_name)
    except Exception:  # any document the API itself refuses: its error is counted, not raised here
        return UNKNOWN, OTHER
    if operation is None:
        return UNKNOWN, OTHER
    kind = operation.operation.value
    selections = operation.selection_set.selections
    names = {s.name.value for s in selections if isinstance(s, FieldNode)} - {"__typename"}
    if len(names) == 1 and all(isinstance(s, FieldNode) for s in selections):
        (name,) = names
        if name in root_fields().get(kind, ()):
            return kind, name
    return kind, OTHER


def request_document(request) -> tuple[str | None, str | None]:
    """The query and operation name a request carries (as graphene-django reads them)."""
    query, name = request.GET.get("query"), request.GET.get("operationName")
    if request.method != "POST":
        return query, name
    try:
        if request.content_type == "application/graphql":
            return query or request.body.decode("utf-8", "replace"), name
        if request.content_type == "application/json":
            data = json.loads(request.body)
        else:
            data = request.POST
    except Exception:  # a body the view refused (not JSON, too deep, too large)
        return query, name
    if not hasattr(data, "get"):
        return query, name
    return query or data.get("query"), name or data.get("operationName")


def error_codes(response) -> set[str]:
    """The distinct error codes of an answer (``HTTP_<status>`` for a refusal without a body of errors)."""
    if getattr(response, "streaming", False):
        return set()
    content = response.content
    codes = set()
    if b'"errors"' in content and response.get("Content-Type", "").startswith("application/json"):
        try:
            body = json.loads(content)
        except ValueError:
            body = None
        answers = body if isinstance(body, list) else [body]  # a batch: a list of answers
        for answer in answers:
            errors = answer.get("errors") if isinstance(answer, dict) else None
            for error in errors if isinstance(errors, list) else ():
                extensions = error.get("extensions") if isinstance(error, dict) else None
                code = extensions.get("code") if isinstance(extensions, dict) else None
                codes.add(code if isinstance(code, str) and CODE.fullmatch(code) else "OTHER")
    if not codes and response.status_code >= 400:
        codes.add(f"HTTP_{response.status_code}")
    return codes


def record(request, response, seconds: float) -> None:
    kind, operation = operation_labels(*request_document(request))
    m.API_REQUEST_SECONDS.labels(kind, operation).observe(seconds)
    for code in error_codes(response):
        m.API_ERRORS.labels(kind, operation, code).inc()


def observe_requests(view):
    """Wrap the /graphql/ view: time every request and count its errors by code."""

    @functools.wraps(view)
    def observed(request, *args, **kwargs):
        started = time.perf_counter()
        response = view(request, *args, **kwargs)
        try:
            record(request, response, time.perf_counter() - started)
        except Exception:  # the figures are never worth a failed request
            logger.exception("could not record the API's metrics")
        return response

    return observed
