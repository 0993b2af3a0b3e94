"""Routes for /v2/fqdn_connections/{id}/fqdn_authentication: an FQDN connection's authentication,
read and changed with PATCH (If-Match and ETag as the connection's own); the work lives in
ovp.services.fqdn_authentication."""

from __future__ import annotations

from ovp.api.http import Request, Response
from ovp.api.resources import path_id, revised_response
from ovp.api.routing import Route
from ovp.domain.connections.fqdn_authentication import parse_changes
from ovp.services import fqdn_authentication as service

PATH = "/v2/fqdn_connections/{id}/fqdn_authentication"


async def retrieve(request: Request) -> Response:
    connection_id, account_id = path_id(request), request.account_id
    return revised_response(await request.app.database.read_one(
        lambda tx: service.retrieve(tx, account_id, connection_id)))


async def update(request: Request) -> Response:
    connection_id = path_id(request)
    changes = parse_changes(await request.json())  # checked before the work joins a group commit
    account_id, if_match = request.account_id, request.headers.get("if-match")
    return revised_response(await request.app.database.write(
        lambda tx: service.update(tx, account_id, connection_id, changes, if_match)))


routes = [Route.at(PATH, {"GET": retrieve, "PATCH": update})]
