"""Handlers for SIP registrations: /ovp/sip_registrations, where a switch reports each REGISTER it
accepted (ovp's own resource, beside Telnyx's, in the same envelope), and Telnyx's
/v2/credential_connections/{id}/actions/check_registration_status, answered from those reports."""

from __future__ import annotations

from ovp.api.http import Request, Response, json_response
from ovp.api.resources import path_id
from ovp.api.routing import Route
from ovp.domain.clock import CLOCK
from ovp.domain.registrations.registration import binding_view, parse_report
from ovp.services import registrations as service

PATH = "/ovp/sip_registrations"


async def report(request: Request) -> Response:
    reported = parse_report(await request.json())
    account_id, now_ms = request.account_id, CLOCK.now_ms()
    done = await request.app.database.write(lambda tx: service.report(tx, account_id, reported, now_ms))
    return json_response({"data": binding_view(done.connection_id, done.user_name, done.binding)})


async def check_status(request: Request) -> Response:
    connection_id, account_id, now_ms = path_id(request), request.account_id, CLOCK.now_ms()
    status = await request.app.database.read(
        lambda tx: service.registration_status(tx, account_id, connection_id, now_ms))
    return json_response({"data": status})


routes = [
    Route.at(PATH, {"POST": report}),
    Route.at("/v2/credential_connections/{id}/actions/check_registration_status", {"POST": check_status}),
]
