"""Builds the ASGI application."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware

from ovp.api import documents, profiles
from ovp.api.auth import AccountResolver, AuthMiddleware, keys_resolver, open_resolver
from ovp.api.context import AppContext
from ovp.api.error_handlers import handlers
from ovp.config import Settings
from ovp.domain.ids import IdGenerator
from ovp.store import keys
from ovp.store.database import Database, make_engine
from ovp.store.migrate import upgrade


def _resolver(settings: Settings, database: Database) -> AccountResolver:
    if settings.auth == "open":
        return open_resolver

    def lookup(secret_hash: str) -> str | None:
        with database.transaction(write=False) as tx:
            return keys.account_for(tx, secret_hash)

    return keys_resolver(lookup)


def create_app(settings: Settings, *, migrate: bool = True) -> Starlette:
    database = Database(make_engine(settings.database_url, settings.sqlite_synchronous))
    if migrate:
        upgrade(database)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        database.dispose()

    app = Starlette(
        routes=[*profiles.routes, *documents.routes],
        middleware=[Middleware(AuthMiddleware, resolve=_resolver(settings, database))],
        exception_handlers=handlers,  # type: ignore[arg-type]
        lifespan=lifespan,
    )
    app.state.ovp = AppContext(settings=settings, database=database, ids=IdGenerator())
    return app


def app_from_environment() -> Starlette:
    """The factory uvicorn's worker processes call; `ovp serve` migrated the database already."""
    return create_app(Settings.from_environment(), migrate=False)
