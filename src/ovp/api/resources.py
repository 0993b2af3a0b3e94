"""The routes of every Telnyx-style collection (list, create, retrieve, update with PATCH, delete):
HTTP in, HTTP out. A body is read and parsed before its work joins a group commit, so that a bad one
is refused alone; the resource's service (ovp.services.resources) does the rest."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.errors import NotFound
from ovp.domain.etags import Revised
from ovp.domain.ids import parse_id
from ovp.domain.resource import View
from ovp.services import addresses, billing_groups, connections, profiles
from ovp.services.resources import Resource


@dataclass(frozen=True)
class Collection:
    """A resource served at `path` (its ids below it). `created_status`: what a create answers,
    as Telnyx documents it for this resource."""

    path: str
    resource: Resource[Any, Any, Any]
    created_status: int = 200

    def _path_id(self, request: Request) -> Any:
        resource_id = self.resource.kind.ids.parse(request.path_params["id"])
        if resource_id is None:
            raise NotFound()
        return resource_id

    def routes(self) -> list[Route]:
        resource = self.resource

        async def list_all(request: Request) -> Response:
            query, account_id = resource.parse_query(request.query), request.account_id
            page, meta = await request.app.database.read(lambda tx: resource.list_page(tx, account_id, query))
            return json_response({"data": page, "meta": asdict(meta)})

        async def create(request: Request) -> Response:
            changes = resource.kind.parse_new(await request.json())
            account_id, ids = request.account_id, request.app.ids
            created = await request.app.database.write(lambda tx: resource.create(tx, account_id, changes, ids))
            return revised_response(created, self.created_status)

        async def retrieve(request: Request) -> Response:
            resource_id, account_id = self._path_id(request), request.account_id
            return revised_response(await request.app.database.read_one(
                lambda tx: resource.retrieve(tx, account_id, resource_id)))

        async def update(request: Request) -> Response:
            resource_id = self._path_id(request)
            changes = resource.kind.parse_changes(await request.json())
            account_id, if_match = request.account_id, request.headers.get("if-match")
            return revised_response(await request.app.database.write(
                lambda tx: resource.update(tx, account_id, resource_id, changes, if_match)))

        async def delete(request: Request) -> Response:
            resource_id = self._path_id(request)
            account_id, if_match = request.account_id, request.headers.get("if-match")
            return revised_response(await request.app.database.write(
                lambda tx: resource.delete(tx, account_id, resource_id, if_match)))

        return [
            Route.at(self.path, {"GET": list_all, "POST": create}),
            Route.at(self.path + "/{id}", {"GET": retrieve, "PATCH": update, "DELETE": delete}),
        ]


def revised_response(shown: Revised[View], status: int = 200) -> Response:
    """`{"data": ...}` with the ETag of the revision shown."""
    return json_response({"data": shown.value}, status, headers={"ETag": shown.etag})


def path_id(request: Request) -> int:
    resource_id = parse_id(request.path_params["id"])
    if resource_id is None:
        raise NotFound()
    return resource_id


# Every Telnyx-style collection ovp serves. Telnyx documents 200 for a profile's or a billing group's
# create, and 201 for the others'.
COLLECTIONS = (
    Collection("/v2/outbound_voice_profiles", profiles.resource),
    Collection("/v2/credential_connections", connections.credential_connections, created_status=201),
    Collection("/v2/ip_connections", connections.ip_connections, created_status=201),
    Collection("/v2/fqdn_connections", connections.fqdn_connections, created_status=201),
    Collection("/v2/call_control_applications", connections.call_control_applications, created_status=201),
    Collection("/v2/texml_applications", connections.texml_applications, created_status=201),
    Collection("/v2/ips", addresses.ips, created_status=201),
    Collection("/v2/fqdns", addresses.fqdns, created_status=201),
    Collection("/v2/billing_groups", billing_groups.resource),
)
routes = [route for collection in COLLECTIONS for route in collection.routes()]
