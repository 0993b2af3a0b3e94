"""JSON responses rendered with orjson, and the Telnyx error envelope."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from ovp.domain.errors import OvpError, Problem

ERRORS_URL = "https://developers.telnyx.com/docs/overview/errors/"


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem_json(problem: Problem) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": problem.code, "title": problem.title, "detail": problem.detail}
    if problem.pointer is not None:
        entry["source"] = {"pointer": problem.pointer}
    elif problem.parameter is not None:
        entry["source"] = {"parameter": problem.parameter}
    entry["meta"] = {"url": ERRORS_URL + problem.code}
    return entry


def error_response(error: OvpError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"errors": [problem_json(problem) for problem in error.problems]}, status_code=error.status, headers=headers
    )
