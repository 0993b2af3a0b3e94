"""Served documents: ovp's OpenAPI document, and health and readiness probes."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import orjson
import yaml

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route

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
    return json_response({"status": "ok"})


async def readyz(request: Request) -> Response:
    try:
        request.app.database.ping()
    except Exception:  # any failure to reach the database means "not ready"
        return json_response({"status": "unavailable"}, status=503)
    return json_response({"status": "ready"})


routes = [
    Route.at("/v2/openapi.json", {"GET": openapi}, public=True),
    Route.at("/healthz", {"GET": healthz}, public=True),
    Route.at("/readyz", {"GET": readyz}, public=True),
]
