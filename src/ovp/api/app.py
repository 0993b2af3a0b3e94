"""The ASGI application: lifespan, routing, authentication, and errors turned into envelopes."""

from __future__ import annotations

import logging

from ovp.api import documents, profiles
from ovp.api.asgi import Message, Receive, Scope, Send
from ovp.api.auth import AccountResolver, authenticate, keys_resolver, open_resolver
from ovp.api.context import AppContext
from ovp.api.http import Request, Response, error_response
from ovp.api.routing import Router
from ovp.config import Settings
from ovp.domain.errors import MethodNotAllowed, NotFound, OvpError, Unexpected
from ovp.domain.ids import IdGenerator
from ovp.store import keys
from ovp.store.database import Database, make_engine
from ovp.store.migrate import upgrade

log = logging.getLogger("ovp")


class OvpApp:
    def __init__(self, context: AppContext, resolve: AccountResolver) -> None:
        self.context = context
        self.resolve = resolve
        self.router = Router([*profiles.routes, *documents.routes])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request = Request.of(scope, receive, self.context)
        try:
            response = await self._dispatch(request)
        except OvpError as error:
            response = error_response(error)
        except Exception:
            # The trace goes to the server's log; the client learns nothing of it.
            log.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            response = error_response(Unexpected())
        await _send(send, response, include_body=scope["method"] != "HEAD")

    async def _dispatch(self, request: Request) -> Response:
        match = self.router.match(request.scope["path"])
        if match is None:
            raise NotFound()
        method = "GET" if request.method == "HEAD" else request.method
        handler = match.route.handlers.get(method)
        if handler is None:
            raise MethodNotAllowed(match.route.allowed)
        if not match.route.public:
            request.account_id = authenticate(request.headers.get("authorization", ""), self.resolve)
        request.path_params = match.path_params
        return await handler(request)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                self.context.database.dispose()
                await send({"type": "lifespan.shutdown.complete"})
                return


_JSON = b"application/json"


async def _send(send: Send, response: Response, *, include_body: bool) -> None:
    headers = [
        (b"content-type", _JSON if response.media_type == "application/json" else response.media_type.encode()),
        (b"content-length", b"%d" % len(response.body)),
        *((name.lower().encode(), value.encode()) for name, value in response.headers.items()),
    ]
    start: Message = {"type": "http.response.start", "status": response.status, "headers": headers}
    await send(start)
    await send({"type": "http.response.body", "body": response.body if include_body else b""})


def _resolver(settings: Settings, database: Database) -> AccountResolver:
    if settings.auth == "open":
        return open_resolver

    def lookup(secret_hash: str) -> str | None:
        with database.single_read() as tx:
            return keys.account_for(tx, secret_hash)

    return keys_resolver(lookup)


def create_app(settings: Settings, *, migrate: bool = True) -> OvpApp:
    database = Database(make_engine(settings.database_url, settings.sqlite_synchronous))
    if migrate:
        upgrade(database)
    context = AppContext(settings=settings, database=database, ids=IdGenerator())
    return OvpApp(context, _resolver(settings, database))


def app_from_environment() -> OvpApp:
    """The factory uvicorn's worker processes call; `ovp serve` migrated the database already."""
    return create_app(Settings.from_environment(), migrate=False)
