"""The probes on the API port: /healthz (the worker answers) and /readyz (its database serves). The
server's admin listener answers them for every worker at once (see ovp.admin)."""

from __future__ import annotations

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.errors import ServiceUnavailable


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
    Route.at("/healthz", {"GET": healthz}, public=True),
    Route.at("/readyz", {"GET": readyz}, public=True),
]
