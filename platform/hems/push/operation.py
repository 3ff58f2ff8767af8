"""One GraphQL subscription: checked as the HTTP endpoint checks a request, then run.

Each change wakes the subscription's source stream (hems.push.schema); the selection is
then executed in a worker thread (resolvers use the ORM, which is sync) and sent only
when its result differs from the last one sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from channels.db import DatabaseSyncToAsync
from django.conf import settings
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSyntaxError,
    OperationType,
    create_source_event_stream,
    execute,
    get_operation_ast,
    parse,
    validate,
)

from hems.api.errors import BAD_REQUEST, QUERY_TOO_COMPLEX, format_error
from hems.api.hygiene import refuse_variables


@dataclass(frozen=True)
class Operation:
    document: DocumentNode
    variables: dict | None
    operation_name: str | None


def validation_rules(variables: dict | None = None) -> list:
    """The HTTP endpoint's rules, exactly (limits counted with the operation's variables,
    standard, storable text, introspection as set now)."""
    from hems.api.view import validation_rules as http_rules

    return http_rules(variables)


def graphql_schema():
    from hems.api.schema import schema

    return schema.graphql_schema


def refusal(message: str, code: str = BAD_REQUEST) -> list[dict]:
    """A refused operation's errors, formatted as the HTTP endpoint formats them."""
    return [format_error(GraphQLError(message, extensions={"code": code}))]


def prepare(payload: object) -> Operation | list[dict]:
    """The operation of a subscribe payload, or the formatted errors refusing it."""
    if not isinstance(payload, dict):
        return refusal("The payload must be an object with 'query'.")
    query, variables, name = payload.get("query"), payload.get("variables"), payload.get("operationName")
    for field, value, kind, label in (
        ("query", query, str, "a string"),
        ("variables", variables, dict, "an object"),
        ("operationName", name, str, "a string"),
    ):
        if value is not None and not isinstance(value, kind):
            return refusal(f"'{field}' must be {label}.")
    if not query:
        return refusal("Must provide a query string.")
    if len(query) > settings.HEMS_GRAPHQL_MAX_QUERY_LENGTH:
        limit = settings.HEMS_GRAPHQL_MAX_QUERY_LENGTH
        return refusal(f"The query is longer than {limit} characters.", QUERY_TOO_COMPLEX)
    refused = refuse_variables(variables)
    if refused is not None:
        return [format_error(refused)]
    try:
        document = parse(query)
    except GraphQLSyntaxError as exc:
        return [format_error(exc)]
    errors = validate(graphql_schema(), document, validation_rules(variables))
    if errors:
        return [format_error(error) for error in errors]
    operation = get_operation_ast(document, name)
    if operation is None:
        return refusal("Unknown operation: name it with 'operationName'.")
    if operation.operation != OperationType.SUBSCRIPTION:
        return refusal("Only subscriptions are served here; send queries and mutations to POST /graphql/.")
    return Operation(document, variables, name)


def formatted(result: ExecutionResult) -> dict:
    payload: dict = {"data": result.data}
    if result.errors:
        payload["errors"] = [format_error(error) for error in result.errors]
    return payload


# Not thread-sensitive: subscribers' reads run side by side in the pool, not one by one
# on a single thread; each closes its connection when done, like a request.
in_thread = DatabaseSyncToAsync(execute, thread_sensitive=False)


async def results(operation: Operation, context) -> AsyncIterator[dict]:
    """The subscription's payloads (``{"data", "errors"}``), first at once, then after
    each change that alters them. Errors of the source stream end it with one payload."""
    schema = graphql_schema()
    stream = await create_source_event_stream(
        schema, operation.document, None, context, operation.variables, operation.operation_name
    )
    if isinstance(stream, ExecutionResult):
        yield formatted(stream)
        return
    last = None
    try:
        async for event in stream:
            result = await in_thread(
                schema, operation.document, event, context, operation.variables, operation.operation_name
            )
            payload = formatted(result)
            if payload != last:
                last = payload
                yield payload
    finally:
        await stream.aclose()
