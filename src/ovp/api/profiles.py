"""Routes for /v2/outbound_voice_profiles: HTTP in, HTTP out; the rules live in ovp.services."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.endpoints import HTTPEndpoint
from starlette.requests import Request
from starlette.routing import Route

from ovp.api.body import read_json
from ovp.api.context import account_id, context
from ovp.api.responses import JSONResponse
from ovp.domain.errors import NotFound
from ovp.domain.ids import parse_id
from ovp.domain.listing import parse_list_query
from ovp.domain.profile import ProfileDocument
from ovp.services import profiles as service


def _wire(profile: ProfileDocument) -> dict[str, Any]:
    return {**profile, "connections_count": 0}


def _one(profile: ProfileDocument) -> JSONResponse:
    return JSONResponse({"data": _wire(profile)})


def _path_id(request: Request) -> int:
    profile_id = parse_id(request.path_params["id"])
    if profile_id is None:
        raise NotFound()
    return profile_id


class ProfileCollection(HTTPEndpoint):
    async def get(self, request: Request) -> JSONResponse:
        query = parse_list_query(request.query_params)
        with context(request).database.transaction(write=False) as tx:
            page, meta = service.list_page(tx, account_id(request), query)
        return JSONResponse({"data": [_wire(profile) for profile in page], "meta": asdict(meta)})

    async def post(self, request: Request) -> JSONResponse:
        body = await read_json(request)
        app = context(request)
        with app.database.transaction(write=True) as tx:
            profile = service.create(tx, account_id(request), body, app.ids)
        return _one(profile)


class ProfileItem(HTTPEndpoint):
    async def get(self, request: Request) -> JSONResponse:
        profile_id = _path_id(request)
        with context(request).database.transaction(write=False) as tx:
            profile = service.retrieve(tx, account_id(request), profile_id)
        return _one(profile)

    async def patch(self, request: Request) -> JSONResponse:
        profile_id = _path_id(request)
        body = await read_json(request)
        with context(request).database.transaction(write=True) as tx:
            profile = service.update(tx, account_id(request), profile_id, body)
        return _one(profile)

    async def delete(self, request: Request) -> JSONResponse:
        profile_id = _path_id(request)
        with context(request).database.transaction(write=True) as tx:
            profile = service.delete(tx, account_id(request), profile_id)
        return _one(profile)


routes = [
    Route("/v2/outbound_voice_profiles", ProfileCollection),
    Route("/v2/outbound_voice_profiles/{id}", ProfileItem),
]
