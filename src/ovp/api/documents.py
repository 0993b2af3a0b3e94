"""Served documents: ovp's OpenAPI document, and health and readiness probes."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson
import yaml

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.errors import ServiceUnavailable
from ovp.store.database import Database

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


# /readyz answers "ready" without a round trip while the database served a request this recently.
READY_FRESH_S = 1.0


async def healthz(_request: Request) -> Response:
    """The process answers: never touches the database."""
    return json_response({"status": "ok"})


def probe_at_once(database: Database, path: str) -> Response | None:
    """A probe's answer when it needs no database round trip: /healthz always; /readyz while no
    outage lasts and the database served within READY_FRESH_S (a busy server is asked only by its
    requests). The HTTP protocol writes it without a task (see ovp.server.protocol), so the
    probes answer at once however many requests wait."""
    if path == "/healthz":
        return json_response({"status": "ok"})
    if path == "/readyz" and database.health.outage is None and database.served_within(READY_FRESH_S):
        return json_response({"status": "ready"})
    return None


async def readyz(request: Request) -> Response:
    """Whether the database serves now; when it does not, why (see ovp.store.health)."""
    database = request.app.database
    try:
        await database.ping()
    except ServiceUnavailable as error:
        outage = database.health.outage
        cause = outage.cause if outage is not None else "unavailable"
        return json_response({"status": "unavailable", "cause": cause, "detail": error.problems[0].detail}, 503)
    return json_response({"status": "ready"})


routes = [
    Route.at("/v2/openapi.json", {"GET": openapi}, public=True),
    Route.at("/healthz", {"GET": healthz}, public=True),
    Route.at("/readyz", {"GET": readyz}, public=True),
]
