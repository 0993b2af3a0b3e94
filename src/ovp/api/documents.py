"""Served documents: ovp's OpenAPI document, and health and readiness probes."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.routing import Route

from ovp.api.context import context
from ovp.api.responses import JSONResponse

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")


@cache
def openapi_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(OPENAPI_PATH.read_text())
    return document


async def openapi(_request: Request) -> JSONResponse:
    return JSONResponse(openapi_document())


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    try:
        context(request).database.ping()
    except Exception:  # any failure to reach the database means "not ready"
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


routes = [
    Route("/v2/openapi.json", openapi, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
]
