"""Handlers for /ovp/account: the caller's account's own settings (its channel limit, D1)."""

from __future__ import annotations

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.accounts.account import parse_account_changes
from ovp.services import accounts as service

PATH = "/ovp/account"


async def retrieve(request: Request) -> Response:
    account_id = request.account_id
    account = await request.app.database.read_one(lambda tx: service.retrieve(tx, account_id))
    return json_response({"data": account.view()})


async def update(request: Request) -> Response:
    changes = parse_account_changes(await request.json())  # checked before the work joins a group commit
    account_id = request.account_id
    account = await request.app.database.write(lambda tx: service.update(tx, account_id, changes))
    return json_response({"data": account.view()})


routes = [Route.at(PATH, {"GET": retrieve, "PATCH": update})]
