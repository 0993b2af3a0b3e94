"""ovp's OpenAPI document, as served at /v2/openapi.json."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson
import yaml

from ovp.api.http import Request, Response
from ovp.api.routing import Route

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


class DuplicateKey(ValueError):
    """A mapping of the document names one key twice: YAML would keep the last copy, silently."""


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a repeated key in any mapping."""


def _mapping_without_repeats(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[object] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise DuplicateKey(f"{key!r} is repeated at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return loader.construct_mapping(node)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_repeats)


def load_strict(text: str) -> Any:
    """YAML `text` as safe_load reads it, but a key repeated in any mapping is a DuplicateKey."""
    return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader, with one constructor more)


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = load_strict(OPENAPI_PATH.read_text())
    return document


@cache
def _openapi_json() -> bytes:
    return orjson.dumps(openapi_document())


async def openapi(_request: Request) -> Response:
    return Response(200, _openapi_json())


routes = [Route.at("/v2/openapi.json", {"GET": openapi}, public=True)]
