"""Handler for /ovp/ip_connections/for_address: which of the account's IP connections a call comes
through, by the address (and port) it comes from, as a SIP proxy asks before it would challenge the
caller for credentials. Telnyx authorizes an IP connection's calls by their source address alone."""

from __future__ import annotations

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.addresses.ip import canonical_address, source_connection
from ovp.domain.errors import InvalidInput, NotFound, Problem
from ovp.domain.listing import parse_port
from ovp.domain.validation import BAD_VALUE, MISSING
from ovp.store import ips as store

PATH = "/ovp/ip_connections/for_address"


def _parameters(query: dict[str, str]) -> tuple[str, int | None]:
    problems: list[Problem] = []
    raw, raw_port = query.get("ip_address"), query.get("port")
    address = None if raw is None else canonical_address(raw)
    if raw is None:
        code, title = MISSING
        problems.append(Problem(code, title, "ip_address is required: the address the call comes from.",
                                parameter="ip_address"))
    elif address is None:
        code, title = BAD_VALUE
        problems.append(Problem(code, title, "ip_address must be an IPv4 or IPv6 address.", parameter="ip_address"))
    port = None if raw_port is None else parse_port(raw_port)
    if raw_port is not None and port is None:
        code, title = BAD_VALUE
        problems.append(Problem(code, title, "port must be a port from 1 to 65535.", parameter="port"))
    if problems:
        raise InvalidInput(problems)
    assert address is not None
    return address, port


async def for_address(request: Request) -> Response:
    (address, port), account_id = _parameters(request.query), request.account_id
    uses = await request.app.database.read_one(lambda tx: store.connections_at(tx, account_id, address))
    found = source_connection(uses, port)
    if found is None:
        raise NotFound()
    return json_response({"data": {
        "record_type": "ip_connection_source",
        "ip_address": address,
        "ip_id": found.ip_id,
        "port": found.port,
        "connection_id": str(found.connection_id),
        "active": found.active,
        "outbound_voice_profile_id": None if found.profile_id is None else str(found.profile_id),
    }})


routes = [Route.at(PATH, {"GET": for_address})]
