"""Handlers for /v2/outbound_voice_profiles: HTTP in, HTTP out; the rules live in ovp.services."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.errors import NotFound
from ovp.domain.etags import Revised
from ovp.domain.ids import parse_id
from ovp.domain.listing import parse_list_query
from ovp.domain.profile import ProfileDocument, wire_view
from ovp.services import profiles as service


def _wire(profile: ProfileDocument) -> dict[str, Any]:
    return wire_view(profile, connections_count=0)


def _one(profile: Revised[ProfileDocument]) -> Response:
    return json_response({"data": _wire(profile.value)}, headers={"ETag": profile.etag})


def _path_id(request: Request) -> int:
    profile_id = parse_id(request.path_params["id"])
    if profile_id is None:
        raise NotFound()
    return profile_id


async def list_profiles(request: Request) -> Response:
    query = parse_list_query(request.query)
    with request.app.database.transaction(write=False) as tx:
        page, meta = service.list_page(tx, request.account_id, query)
    return json_response({"data": [_wire(profile) for profile in page], "meta": asdict(meta)})


async def create_profile(request: Request) -> Response:
    body = await request.json()
    account_id, ids = request.account_id, request.app.ids
    return _one(await request.app.database.write(lambda tx: service.create(tx, account_id, body, ids)))


async def retrieve_profile(request: Request) -> Response:
    profile_id = _path_id(request)
    with request.app.database.single_read() as tx:
        profile = service.retrieve(tx, request.account_id, profile_id)
    return _one(profile)


async def update_profile(request: Request) -> Response:
    profile_id = _path_id(request)
    body = await request.json()
    account_id, if_match = request.account_id, request.headers.get("if-match")
    return _one(
        await request.app.database.write(lambda tx: service.update(tx, account_id, profile_id, body, if_match))
    )


async def delete_profile(request: Request) -> Response:
    profile_id = _path_id(request)
    account_id, if_match = request.account_id, request.headers.get("if-match")
    return _one(await request.app.database.write(lambda tx: service.delete(tx, account_id, profile_id, if_match)))


routes = [
    Route.at("/v2/outbound_voice_profiles", {"GET": list_profiles, "POST": create_profile}),
    Route.at(
        "/v2/outbound_voice_profiles/{id}",
        {"GET": retrieve_profile, "PATCH": update_profile, "DELETE": delete_profile},
    ),
]
