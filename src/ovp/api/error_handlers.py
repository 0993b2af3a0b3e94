"""The one place where errors become Telnyx envelopes."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from ovp.api.responses import error_response
from ovp.domain.errors import MethodNotAllowed, NotFound, OvpError, Unexpected

log = logging.getLogger("ovp")


async def ovp_error(_request: Request, error: Exception) -> Response:
    assert isinstance(error, OvpError)
    return error_response(error)


async def http_error(_request: Request, error: Exception) -> Response:
    """Starlette's own 404 (no such route) and 405 (no such method), in Telnyx's envelope."""
    assert isinstance(error, HTTPException)
    if error.status_code == 404:
        return error_response(NotFound())
    if error.status_code == 405:
        allowed = (error.headers or {}).get("Allow", "")
        problem = MethodNotAllowed.single("10015", "Method Not Allowed", f"This URL accepts only {allowed}.")
        return error_response(problem, headers={"Allow": allowed})
    generic = OvpError.single("10015", "Bad Request", str(error.detail))
    generic.status = error.status_code  # type: ignore[misc]
    return error_response(generic)


async def unexpected_error(_request: Request, _error: Exception) -> Response:
    # Starlette re-raises after this response is sent, so the trace reaches the server's log;
    # the client learns nothing of it.
    return error_response(Unexpected())


handlers = {OvpError: ovp_error, HTTPException: http_error, Exception: unexpected_error}
