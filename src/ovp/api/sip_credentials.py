"""Handler for /ovp/sip_credentials/{user_name}: what a SIP proxy needs to authenticate a caller as
one of the account's credential connections. The password never leaves ovp: the proxy gets HA1."""

from __future__ import annotations

from typing import Any

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.calls.sip_digest import ha1, parse_realm
from ovp.domain.connections.credential_connection import ConnectionDocument, outbound_profile_id
from ovp.domain.connections.fields import could_be_user_name
from ovp.domain.errors import NotFound
from ovp.store import connections as store

PREFIX = "/ovp/sip_credentials"


def _credential(asked: str, realm: str, connection_id: int, connection: ConnectionDocument) -> dict[str, Any]:
    profile_id = outbound_profile_id(connection)
    return {
        "record_type": "sip_credential",
        "user_name": connection["user_name"],
        "realm": realm,
        # Over the user name as the caller sent it: user names match in any case, and the
        # caller's digest is computed over what it sends.
        "ha1": ha1(asked, realm, connection["password"]),
        "connection_id": str(connection_id),
        "active": connection["active"],
        "outbound_voice_profile_id": None if profile_id is None else str(profile_id),
    }


async def retrieve(request: Request) -> Response:
    asked, realm, account_id = request.path_params["user_name"], parse_realm(request.query), request.account_id
    if not could_be_user_name(asked):
        raise NotFound()
    found = await request.app.database.read_one(lambda tx: store.credential_by_user_name(tx, account_id, asked))
    if found is None:
        raise NotFound()
    return json_response({"data": _credential(asked, realm, *found)})


routes = [Route.at(PREFIX + "/{user_name}", {"GET": retrieve})]
