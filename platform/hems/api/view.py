"""The /graphql/ endpoint: JWT authentication, error codes, and request limits."""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.http import HttpResponse
from graphene_django.views import GraphQLView
from graphql import ExecutionResult, GraphQLError, specified_rules

from hems.api.auth import authenticate
from hems.api.errors import BAD_REQUEST, QUERY_TOO_COMPLEX, format_error
from hems.api.hygiene import NoNulInLiterals, nul_in_variables
from hems.api.limits import NoSchemaIntrospection, query_limits_rule

logger = logging.getLogger("hems.api")


def error_response(status: int, message: str, code: str) -> HttpResponse:
    body = json.dumps({"errors": [{"message": message, "extensions": {"code": code}}]})
    return HttpResponse(body, status=status, content_type="application/json")


class HemsGraphQLView(GraphQLView):
    """graphene-django's view with hems's authentication, errors and limits."""

    def __init__(self, **kwargs):
        # graphql-core replaces its standard rules with the ones given: keep them.
        rules = [
            *specified_rules,
            query_limits_rule(settings.HEMS_GRAPHQL_MAX_FIELDS, settings.HEMS_GRAPHQL_MAX_DEPTH),
            NoNulInLiterals,
        ]
        if not settings.HEMS_GRAPHQL_INTROSPECTION:
            rules.append(NoSchemaIntrospection)
        kwargs.setdefault("validation_rules", rules)
        kwargs.setdefault("graphiql", settings.HEMS_GRAPHIQL)
        super().__init__(**kwargs)

    def dispatch(self, request, *args, **kwargs):
        if request.method == "GET" and not self.graphiql:
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
        refused = nul_in_variables(variables)
        if refused is not None:
            return ExecutionResult(errors=[refused])
        return super().execute_graphql_request(request, data, query, variables, operation_name, show_graphiql)

    @staticmethod
    def format_error(error):
        return format_error(error)
