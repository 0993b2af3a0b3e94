"""Handlers for a Telnyx-style collection (list, create, retrieve, update with PATCH, delete): HTTP
in, HTTP out. A resource's service does the work and answers what the API shows; the handlers only
read the request, open the transaction and write the answer."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Generic, TypeVar

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.errors import NotFound
from ovp.domain.etags import Revised
from ovp.domain.ids import IdGenerator, parse_id
from ovp.domain.listing import PageMeta
from ovp.store.database import Transaction

Q = TypeVar("Q")
K = TypeVar("K")  # a resource's id, as its service takes it
View = dict[str, Any]
Shown = Revised[View]


@dataclass(frozen=True)
class Collection(Generic[Q, K]):
    """The operations of one resource, each run in the transaction the handler opens. `parse_id`
    reads the id in a path (None: no such resource)."""

    path: str
    parse_query: Callable[[Mapping[str, str]], Q]
    list_page: Callable[[Transaction, str, Q], tuple[list[View], PageMeta]]
    create: Callable[[Transaction, str, object, IdGenerator], Shown]
    retrieve: Callable[[Transaction, str, K], Shown]
    update: Callable[[Transaction, str, K, object, str | None], Shown]
    delete: Callable[[Transaction, str, K, str | None], Shown]
    parse_id: Callable[[str], K | None]
    created_status: int = 200

    def _path_id(self, request: Request) -> K:
        resource_id = self.parse_id(request.path_params["id"])
        if resource_id is None:
            raise NotFound()
        return resource_id

    def routes(self) -> list[Route]:
        async def list_all(request: Request) -> Response:
            query, account_id = self.parse_query(request.query), request.account_id
            page, meta = await request.app.database.read(lambda tx: self.list_page(tx, account_id, query))
            return json_response({"data": page, "meta": asdict(meta)})

        async def create(request: Request) -> Response:
            body = await request.json()
            account_id, ids = request.account_id, request.app.ids
            created = await request.app.database.write(lambda tx: self.create(tx, account_id, body, ids))
            return _one(created, self.created_status)

        async def retrieve(request: Request) -> Response:
            resource_id, account_id = self._path_id(request), request.account_id
            return _one(await request.app.database.read_one(lambda tx: self.retrieve(tx, account_id, resource_id)))

        async def update(request: Request) -> Response:
            resource_id = self._path_id(request)
            body = await request.json()
            account_id, if_match = request.account_id, request.headers.get("if-match")
            return _one(
                await request.app.database.write(lambda tx: self.update(tx, account_id, resource_id, body, if_match))
            )

        async def delete(request: Request) -> Response:
            resource_id = self._path_id(request)
            account_id, if_match = request.account_id, request.headers.get("if-match")
            return _one(await request.app.database.write(lambda tx: self.delete(tx, account_id, resource_id, if_match)))

        return [
            Route.at(self.path, {"GET": list_all, "POST": create}),
            Route.at(self.path + "/{id}", {"GET": retrieve, "PATCH": update, "DELETE": delete}),
        ]


def _one(shown: Shown, status: int = 200) -> Response:
    return json_response({"data": shown.value}, status, headers={"ETag": shown.etag})


def path_id(request: Request) -> int:
    resource_id = parse_id(request.path_params["id"])
    if resource_id is None:
        raise NotFound()
    return resource_id
