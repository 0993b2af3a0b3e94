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

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text())
    return document


@cache
def _openapi_json() -> bytes:
    return orjson.dumps(openapi_document())


async def openapi(_request: Request) -> Response:
    return Response(200, _openapi_json())


async def healthz(_request: Request) -> Response:
    """The process answers: never touches the database."""
    return json_response({"status": "ok"})


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
