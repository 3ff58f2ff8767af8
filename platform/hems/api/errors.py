"""The API's error codes (see the GraphQL contract) and how errors become them."""

from __future__ import annotations

import logging
import re

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, ValidationError
from graphene.utils.str_converters import to_camel_case
from graphene_django.views import HttpError
from graphql import GraphQLError, GraphQLSyntaxError
from graphql_jwt.exceptions import JSONWebTokenError

logger = logging.getLogger("hems.api")

UNAUTHENTICATED = "UNAUTHENTICATED"
BAD_USER_INPUT = "BAD_USER_INPUT"
NOT_FOUND = "NOT_FOUND"
INTERNAL = "INTERNAL"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
BAD_REQUEST = "BAD_REQUEST"
TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"

INTERNAL_MESSAGE = "Internal server error."


def bad_input(message: str, field: str | None = None, errors: dict[str, list[str]] | None = None) -> GraphQLError:
    extensions: dict = {"code": BAD_USER_INPUT}
    if field:
        extensions["field"] = field
    if errors:
        extensions["errors"] = errors
    return GraphQLError(message, extensions=extensions)


def not_found(what: str = "Device") -> GraphQLError:
    return GraphQLError(f"{what} not found.", extensions={"code": NOT_FOUND})


def unauthenticated(message: str = "Authentication required: send 'Authorization: Bearer <token>'.") -> GraphQLError:
    return GraphQLError(message, extensions={"code": UNAUTHENTICATED})


def too_many_attempts() -> GraphQLError:
    """A login refused because the account or the address failed too often lately."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    return GraphQLError(
        f"Too many failed login attempts for this account or from this address. Try again in {seconds // 60} minutes.",
        extensions={"code": TOO_MANY_ATTEMPTS, "retryAfter": seconds},
    )


def from_validation_error(exc: ValidationError, prefix: str = "") -> GraphQLError:
    """A model's ValidationError as BAD_USER_INPUT, its fields in GraphQL's names.

    :param prefix: the input path of the fields (``"poolPump."`` for a kind's fields);
        ``name`` and ``status`` are always top-level.
    """
    by_field: dict[str, list[str]] = {}
    for name, messages in (
        exc.message_dict.items() if hasattr(exc, "error_dict") else [(NON_FIELD_ERRORS, exc.messages)]
    ):
        if name == NON_FIELD_ERRORS:
            key = ""
        elif name in {"name", "status", "kind", "device_type"}:
            key = to_camel_case(name)
        else:
            key = prefix + to_camel_case(name)
        by_field.setdefault(key, []).extend(messages)
    field = next((k for k in by_field if k), None)
    first = by_field[field][0] if field else next(iter(by_field.values()))[0]
    message = f"{field}: {first}" if field else first
    return bad_input(message, field=field, errors={k or "_": v for k, v in by_field.items()})


# graphql-core's "Did you mean ...?" (graphql.pyutils.did_you_mean), at the end of a
# message: the fields, arguments, types or enum values named like the one asked for.
_NAME = r"'[_A-Za-z]\w*'"
_SUGGESTION = re.compile(
    rf" Did you mean (?:the enum value |to use an inline fragment on )?{_NAME}(?:(?:, {_NAME})*,? or {_NAME})?\?$"
)


def without_suggestions(message: str) -> str:
    """The message without the schema's names it suggests, when introspection is off:
    the schema is not for a stranger to spell out one typo at a time."""
    return message if settings.HEMS_GRAPHQL_INTROSPECTION else _SUGGESTION.sub("", message)


_VARIABLE_PATH = re.compile(r"at '([\w.\[\]]+)'")
_REQUIRED_FIELD = re.compile(r"Field '(\w+)' of required type")
_UNKNOWN_FIELD = re.compile(r"Field '(\w+)' is not defined by type")
_VARIABLE = re.compile(r"^Variable '\$(\w+)'")
_ARGUMENT = re.compile(r"^Argument '(\w+)'")


def _field_of(message: str) -> str | None:
    for pattern in (_REQUIRED_FIELD, _UNKNOWN_FIELD):
        match = pattern.search(message)
        if match:
            return match.group(1)
    match = _VARIABLE_PATH.search(message)
    if match:
        return re.sub(r"\[\d+\]", "", match.group(1)).split(".")[-1]
    for pattern in (_VARIABLE, _ARGUMENT):
        match = pattern.search(message)
        if match:
            return match.group(1)
    return None


def format_error(error: Exception) -> dict:
    """Turn any error into the contract's shape: a message and ``extensions.code``.

    Internal failures are logged with their traceback and answered without details.
    """
    if isinstance(error, HttpError):
        # graphene-django's refusal of the request itself (no or invalid JSON, a body
        # larger than DATA_UPLOAD_MAX_MEMORY_SIZE, a GET of a mutation): the client's fault.
        return {"message": str(error.message or error), "extensions": {"code": BAD_REQUEST}}
    if not isinstance(error, GraphQLError):
        logger.error("unexpected error outside GraphQL execution", exc_info=error)
        return {"message": INTERNAL_MESSAGE, "extensions": {"code": INTERNAL}}
    formatted = error.formatted
    extensions = dict(formatted.get("extensions") or {})
    original = error.original_error
    while isinstance(original, GraphQLError) and original.original_error is not None:
        original = original.original_error
    if "code" in extensions:
        pass
    elif isinstance(error, GraphQLSyntaxError) or isinstance(original, GraphQLSyntaxError):
        extensions["code"] = PARSE_FAILED
    elif error.message.startswith("Variable '$"):
        extensions["code"] = BAD_USER_INPUT
        field = _field_of(error.message)
        if field:
            extensions["field"] = field
    elif not error.path:
        # Refused before execution: the document does not fit the schema.
        extensions["code"] = VALIDATION_FAILED
    elif isinstance(original, GraphQLError) and "code" in (original.extensions or {}):
        extensions.update(original.extensions)
    elif isinstance(original, GraphQLError) and original.message.startswith("Argument '"):
        extensions["code"] = BAD_USER_INPUT
        extensions["field"] = _field_of(original.message)
    elif isinstance(original, JSONWebTokenError):
        extensions["code"] = UNAUTHENTICATED
    elif isinstance(original, ObjectDoesNotExist):
        extensions["code"] = NOT_FOUND
        formatted["message"] = "Not found."
    else:
        logger.error("internal error while executing a GraphQL request", exc_info=original)
        extensions = {"code": INTERNAL}
        formatted["message"] = INTERNAL_MESSAGE
    formatted["message"] = without_suggestions(formatted["message"])
    formatted["extensions"] = extensions
    return formatted
