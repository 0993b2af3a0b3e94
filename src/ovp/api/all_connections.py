"""Routes for /v2/connections: every kind of the account's connections, read only, how many of each
kind, and the calls in progress on each; the work lives in ovp.services.all_connections."""

from __future__ import annotations

from dataclasses import asdict

from ovp.api.http import Request, Response, json_response
from ovp.api.resources import path_id
from ovp.api.routing import Route
from ovp.domain.clock import CLOCK
from ovp.domain.connections.listing import parse_connection_list_query
from ovp.domain.listing import parse_page_query
from ovp.services import all_connections as service

PREFIX = "/v2/connections"


async def list_all(request: Request) -> Response:
    query, account_id = parse_connection_list_query(request.query), request.account_id
    page, meta = await request.app.database.read(lambda tx: service.list_page(tx, account_id, query))
    return json_response({"data": page, "meta": asdict(meta)})


async def count(request: Request) -> Response:
    account_id = request.account_id
    return json_response({"data": await request.app.database.read_one(lambda tx: service.count(tx, account_id))})


async def retrieve(request: Request) -> Response:
    connection_id, account_id = path_id(request), request.account_id
    return json_response({"data": await request.app.database.read_one(
        lambda tx: service.retrieve(tx, account_id, connection_id))})


async def active_calls(request: Request) -> Response:
    connection_id, account_id = path_id(request), request.account_id
    page, now_ms = parse_page_query(request.query), CLOCK.now_ms()
    calls, meta = await request.app.database.read(
        lambda tx: service.active_calls(tx, account_id, connection_id, page, now_ms))
    return json_response({"data": calls, "meta": asdict(meta)})


routes = [
    Route.at(PREFIX, {"GET": list_all}),
    Route.at(PREFIX + "/count", {"GET": count}),  # before /{id}, which it would otherwise match
    Route.at(PREFIX + "/{id}", {"GET": retrieve}),
    Route.at(PREFIX + "/{id}/active_calls", {"GET": active_calls}),
]
