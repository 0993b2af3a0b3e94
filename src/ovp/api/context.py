"""What a request handler needs from the running app, reached through the request."""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from ovp.config import Settings
from ovp.domain.ids import IdGenerator
from ovp.store.database import Database


@dataclass
class AppContext:
    settings: Settings
    database: Database
    ids: IdGenerator


def context(request: Request) -> AppContext:
    app_context: AppContext = request.app.state.ovp
    return app_context


def account_id(request: Request) -> str:
    # Set by AuthMiddleware before any /v2 route runs.
    value: str = request.state.account_id
    return value
