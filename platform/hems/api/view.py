"""The /graphql/ endpoint: JWT authentication, error codes, and request limits."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotAllowed
from django.shortcuts import render
from graphene_django.constants import MUTATION_ERRORS_FLAG
from graphene_django.settings import graphene_settings
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, OperationType, execute, get_operation_ast, specified_rules
from graphql.type import validate_schema

from hems.api.atomic import AtomicMutations
from hems.api.auth import authenticate
from hems.api.documents import checked_document, limits
from hems.api.errors import BAD_REQUEST, QUERY_TOO_COMPLEX, format_error
from hems.api.execution import Execution
from hems.api.hygiene import StorableLiterals, refuse_text, refuse_variables
from hems.api.limits import NoSchemaIntrospection, query_limits_rule

logger = logging.getLogger("hems.api")

# Where a person who opened the API in a browser can see their home.
DASHBOARD_URL = "/"


def error_response(status: int, message: str, code: str) -> HttpResponse:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return HttpResponse(body, status=status, content_type="application/json")


def validation_rules(variables: dict | None = None) -> list:
    """The rules of a request: its limits first (a refusal aborts the validation before
    any other rule spends time on the document), then graphql-core's standard rules,
    which it replaces when given others, then hems's. ``variables``, when known, tell
    the limits how long the lists they choose are."""
    rules = [query_limits_rule(limits(), variables), *specified_rules, StorableLiterals]
    if not settings.HEMS_GRAPHQL_INTROSPECTION:
        rules.append(NoSchemaIntrospection)
    return rules


# graphene-django's dispatch without its ``ensure_csrf_cookie``: the API reads no cookie
# (Bearer tokens only, exempt from CSRF), so minting a CSRF token for every answer is
# work for nothing.
_graphene_dispatch = getattr(GraphQLView.dispatch, "__wrapped__", GraphQLView.dispatch)


def atomic_mutations() -> bool:
    """Whether a mutation runs in a transaction (graphene-django's setting, or the database's)."""
    return graphene_settings.ATOMIC_MUTATIONS is True or connection.settings_dict.get("ATOMIC_MUTATIONS") is True


class HemsGraphQLView(GraphQLView):
    """graphene-django's view with hems's authentication, errors and limits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("graphiql", settings.HEMS_GRAPHIQL)
        kwargs.setdefault("execution_context_class", AtomicMutations)  # a mutation: all or nothing
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and not self.graphiql:
            if self.request_wants_html(request):
                # A person in a browser: say how to turn GraphiQL on, not a JSON 405.
                page = render(request, "hems/graphiql_off.html", {"dashboard_url": DASHBOARD_URL}, status=405)
                page["Allow"] = "POST"
                return page
            return error_response(405, "Send GraphQL requests with POST.", BAD_REQUEST)
        try:
            authenticate(request)
            return _graphene_dispatch(self, request, *args, **kwargs)
        except Exception as exc:
            # Anything that escapes GraphQL execution (the database down while the
            # token's user is looked up, say): a clear INTERNAL, no internals.
            logger.error("request failed outside GraphQL execution", exc_info=exc)
            return error_response(500, "Internal server error.", "INTERNAL")

    def execute_graphql_request(self, request, data, query, variables, operation_name, show_graphiql=False):
        # The JSON body is the client's: any shape may come, and only the right one runs.
        for name, value, kind, label in (
            ("query", query, str, "a string"),
            ("variables", variables, dict, "an object"),
            ("operationName", operation_name, str, "a string"),
        ):
            if value is not None and not isinstance(value, kind):
                error = GraphQLError(f"'{name}' must be {label}.", extensions={"code": BAD_REQUEST})
                return ExecutionResult(errors=[error])
        if query and len(query) > settings.HEMS_GRAPHQL_MAX_QUERY_LENGTH:
            message = f"The query is longer than {settings.HEMS_GRAPHQL_MAX_QUERY_LENGTH} characters."
            return ExecutionResult(errors=[GraphQLError(message, extensions={"code": QUERY_TOO_COMPLEX})])
        for refused in (refuse_text("query", query), refuse_text("operationName", operation_name)):
            if refused is not None:
                return ExecutionResult(errors=[refused])
        refused = refuse_variables(variables)
        if refused is not None:
            return ExecutionResult(errors=[refused])
        return self.run(request, query, variables, operation_name, show_graphiql)

    def run(self, request, query, variables, operation_name, show_graphiql):
        """graphene-django's ``execute_graphql_request``, the document parsed and
        validated once per text (:mod:`hems.api.documents`) instead of on every request."""
        if not query:
            if show_graphiql:
                return None
            raise HttpError(HttpResponseBadRequest("Must provide query string."))
        schema = self.schema.graphql_schema
        schema_errors = validate_schema(schema)  # checked once per schema by graphql-core
        if schema_errors:
            return ExecutionResult(data=None, errors=schema_errors)
        document, errors = checked_document(schema, query, variables, validation_rules)
        if document is None:
            return ExecutionResult(errors=errors)
        operation = get_operation_ast(document, operation_name)
        if request.method.lower() == "get" and operation is not None and operation.operation != OperationType.QUERY:
            if show_graphiql:
                return None
            message = f"Can only perform a {operation.operation.value} operation from a POST request."
            raise HttpError(HttpResponseNotAllowed(["POST"], message))
        if errors:
            return ExecutionResult(data=None, errors=errors)
        mutation = operation is not None and operation.operation == OperationType.MUTATION
        context_class = self.execution_context_class
        if context_class is AtomicMutations and not mutation and operation is not None:
            context_class = Execution  # no savepoints to open: no check on every field
        options = {
            "root_value": self.get_root_value(request),
            "context_value": self.get_context(request),
            "variable_values": variables,
            "operation_name": operation_name,
            "middleware": self.get_middleware(request),
            "execution_context_class": context_class,
        }
        try:
            if mutation and atomic_mutations():
                with transaction.atomic():
                    result = execute(schema, document, **options)
                    if getattr(request, MUTATION_ERRORS_FLAG, False) is True:
                        transaction.set_rollback(True)
                return result
            return execute(schema, document, **options)
        except Exception as exc:
            return ExecutionResult(errors=[exc])

    def parse_body(self, request):
        try:
            return super().parse_body(request)
        except RecursionError:
            # JSON nested deeper than the parser goes (``[[[[...`` 5,000 deep): the client's.
            raise HttpError(HttpResponseBadRequest("The JSON body is nested too deeply.")) from None

    def render_graphiql(self, request, **data):
        # hems's own page and vendored scripts instead of graphene's, which load from a CDN.
        context = {"endpoint": request.path, "dashboard_url": DASHBOARD_URL}
        return render(request, "hems/graphiql.html", context)

    @staticmethod
    def format_error(error):
        return format_error(error)
