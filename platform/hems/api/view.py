"""The /graphql/ endpoint: JWT authentication, error codes, and request limits."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from graphene_django.views import GraphQLView, HttpError
from graphql import ExecutionResult, GraphQLError, specified_rules

from hems.api.atomic import AtomicMutations
from hems.api.auth import authenticate
from hems.api.errors import BAD_REQUEST, QUERY_TOO_COMPLEX, format_error
from hems.api.hygiene import StorableLiterals, refuse_text, refuse_variables
from hems.api.limits import Limits, NoSchemaIntrospection, query_limits_rule

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
    limits = Limits(
        max_fields=settings.HEMS_GRAPHQL_MAX_FIELDS,
        max_depth=settings.HEMS_GRAPHQL_MAX_DEPTH,
        max_buckets=settings.HEMS_HISTORY_MAX_BUCKETS,
    )
    rules = [query_limits_rule(limits, variables), *specified_rules, StorableLiterals]
    if not settings.HEMS_GRAPHQL_INTROSPECTION:
        rules.append(NoSchemaIntrospection)
    return rules


class HemsGraphQLView(GraphQLView):
    """graphene-django's view with hems's authentication, errors and limits."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validation_rules", validation_rules())
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
            return super().dispatch(request, *args, **kwargs)
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
        self.validation_rules = validation_rules(variables)  # a view instance serves one request
        return super().execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)

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
