"""The fields of a request's body that ovp's OpenAPI document does not know. ovp ignores them, as
Telnyx does, and says which: the `Ovp-Ignored-Fields` header of a write's answer, its journal entry
and its access log line. A misspelt field (`concurrent_calls`) then shows instead of passing for a
field that was applied."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from ovp.api.documents import openapi_document

HEADER = "Ovp-Ignored-Fields"
Schema = Mapping[str, Any]


@cache
def _request_schemas() -> dict[tuple[str, str], Schema]:
    """The JSON request body's schema of each operation, by method and path template."""
    found: dict[tuple[str, str], Schema] = {}
    for path, operations in openapi_document()["paths"].items():
        for method, operation in operations.items():
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if schema is not None:
                found[(method.upper(), path)] = schema
    return found


def ignored_fields(method: str, template: str, body: object) -> list[str]:
    """What of `body` the document of the operation at `template` does not know: a top-level field
    by its name, a nested one by its JSON pointer (`/outbound/channel_limits`)."""
    schema = _request_schemas().get((method, template))
    return [] if schema is None else _unknown(schema, body, "")


def _resolved(schema: Schema) -> Schema:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/components/schemas/")
        schema = openapi_document()["components"]["schemas"][name]
    return schema


# The document is read once and never changes: what each of its schemas allows is worked out once.
_PROPERTIES: dict[int, dict[str, Schema] | None] = {}


def _properties(schema: Schema) -> dict[str, Schema] | None:
    """The properties an object may have, gathered through allOf, anyOf and oneOf; None when it may
    have any (a free-form object)."""
    key = id(schema)
    if key not in _PROPERTIES:
        _PROPERTIES[key] = _gathered(schema)
    return _PROPERTIES[key]


def _gathered(schema: Schema) -> dict[str, Schema] | None:
    schema = _resolved(schema)
    extra = schema.get("additionalProperties", False)
    if extra is True or isinstance(extra, Mapping):
        return None
    found: dict[str, Schema] = dict(schema.get("properties", {}))
    known_somehow = "properties" in schema
    for keyword in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(keyword, []):
            gathered = _properties(part)
            if gathered is None and "properties" in _resolved(part):
                return None
            if gathered:
                found.update(gathered)
                known_somehow = True
    return found if known_somehow else None


def _items(schema: Schema) -> Schema | None:
    schema = _resolved(schema)
    for keyword in ("anyOf", "oneOf"):
        for part in schema.get(keyword, []):
            items = _items(part)
            if items is not None:
                return items
    items = schema.get("items")
    return items if isinstance(items, Mapping) else None


def _unknown(schema: Schema, value: object, at: str) -> list[str]:
    if isinstance(value, list):
        items = _items(schema)
        return [] if items is None else [found for index, item in enumerate(value)
                                         for found in _unknown(items, item, f"{at}/{index}")]
    if not isinstance(value, dict):
        return []
    properties = _properties(schema)
    if properties is None:
        return []
    found: list[str] = []
    for key, item in value.items():
        pointer = f"{at}/{_escaped(key)}"
        if key not in properties:
            found.append(pointer if at else key)
        else:
            found.extend(_unknown(properties[key], item, pointer))
    return found


def _escaped(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")
