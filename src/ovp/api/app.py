"""The ASGI application: lifespan, routing, authentication, and errors turned into envelopes."""

from __future__ import annotations

import asyncio
import logging
import time

from ovp.api import admin, docs, documents, profiles
from ovp.api.asgi import Message, Receive, Scope, Send
from ovp.api.auth import AccountResolver, authenticate, keys_resolver, open_resolver
from ovp.api.context import AppContext, Emulator
from ovp.api.http import Request, Response, error_response
from ovp.api.routing import Router
from ovp.config import Settings
from ovp.domain.errors import MethodNotAllowed, NotFound, OvpError, Unexpected
from ovp.domain.ids import IdGenerator
from ovp.emulator.faults import FaultBook
from ovp.emulator.journal import Journal, JournalEntry
from ovp.store import keys
from ovp.store.database import Database
from ovp.store.engine import make_engine
from ovp.store.migrate import upgrade

log = logging.getLogger("ovp")


class OvpApp:
    def __init__(self, context: AppContext, resolve: AccountResolver) -> None:
        self.context = context
        self.resolve = resolve
        emulator_routes = admin.routes if context.emulator is not None else []
        self.router = Router([*profiles.routes, *documents.routes, *docs.routes, *emulator_routes])

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
        if self.context.emulator is not None and _journaled(request):
            self.context.emulator.journal.record(request.account_id, _entry(request, response.status))
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
        if self.context.emulator is not None and _journaled(request):
            await _inject_fault(self.context.emulator, request)
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


def _journaled(request: Request) -> bool:
    """Requests of an account to the API itself; not the probes, nor the admin surface."""
    return bool(request.account_id) and not request.scope["path"].startswith(admin.PREFIX)


def _entry(request: Request, status: int) -> JournalEntry:
    scope = request.scope
    return JournalEntry(scope["method"], scope["path"], scope["query_string"], request.body, status, time.time_ns())


async def _inject_fault(emulator: Emulator, request: Request) -> None:
    fault = emulator.faults.take(request.account_id, request.method, request.scope["path"])
    if fault is None:
        return
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    error = fault.error()
    if error is not None:
        raise error


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
    emulator = Emulator(Journal(), FaultBook()) if settings.auth == "open" else None
    context = AppContext(settings=settings, database=database, ids=IdGenerator(), emulator=emulator)
    return OvpApp(context, _resolver(settings, database))


def app_from_environment() -> OvpApp:
    """The factory uvicorn's worker processes call; `ovp serve` migrated the database already."""
    return create_app(Settings.from_environment(), migrate=False)
