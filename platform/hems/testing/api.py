"""A small GraphQL client over Django's test client: real HTTP requests, JSON
bodies and the Bearer header, as an app would send them."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from enum import Enum
from typing import Any

from django.test import Client
from graphene.utils.str_converters import to_camel_case
from graphql_jwt.shortcuts import get_token

from hems.plugins import registry
from hems.sdk.types import DeviceType

ENDPOINT = "/graphql/"


class Api:
    """``api.data(query, variables, user=alice)`` and ``api.error(...)``."""

    def __init__(self, client: Client | None = None):
        self.client = client or Client()

    def post(self, query: str, variables: dict | None = None, *, user=None, token: str | None = None, **headers):
        if user is not None:
            token = get_token(user)
        if token is not None:
            headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {token}")
        body = {"query": query, "variables": variables or {}}
        return self.client.post(ENDPOINT, json.dumps(body), content_type="application/json", **headers)

    def execute(self, query: str, variables: dict | None = None, **kwargs) -> dict:
        response = self.post(query, variables, **kwargs)
        assert response["Content-Type"].startswith("application/json"), response.content[:200]
        return response.json()

    def data(self, query: str, variables: dict | None = None, **kwargs) -> dict:
        """The data of a request that must succeed."""
        result = self.execute(query, variables, **kwargs)
        assert not result.get("errors"), result["errors"]
        return result["data"]

    def error(self, query: str, variables: dict | None = None, **kwargs) -> dict:
        """The first error of a request that must fail."""
        result = self.execute(query, variables, **kwargs)
        assert result.get("errors"), f"expected an error, got {result}"
        return result["errors"][0]


def graphql_value(value: Any, name: str = "") -> Any:
    """A Python attribute value as a GraphQL variable value."""
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, str) and name == "mode":
        return value.upper()
    return value


def kind_input(kind_key: str, attributes: dict[str, Any]) -> dict[str, Any]:
    """A kind's attributes as the value of its field in CreateDeviceInput."""
    kind = registry().kind(kind_key)
    model = kind.model
    result = {}
    for name, value in attributes.items():
        try:
            choices = model._meta.get_field(name).choices
        except Exception:
            choices = None
        converted = graphql_value(value, name)
        if choices and isinstance(converted, str):
            converted = converted.upper()
        result[to_camel_case(name)] = converted
    return result


def kind_fragment(kind_key: str) -> str:
    """``... on <Type> { <every declared field> }`` for a kind."""
    kind = registry().kind(kind_key)
    fields = [to_camel_case(name) for name in kind.fields]
    if kind.device_type == DeviceType.STORAGE:
        fields += ["percentage", "flowW"]
    return f"... on {kind.type_name} {{ {' '.join(fields)} }}"
