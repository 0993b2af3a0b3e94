"""Authentication as ASGI middleware: every request under /v2 is bound to an account, or refused.

The account lands in `scope["state"]["account_id"]`, so no route checks ownership itself: each
passes the account to the store, whose queries all take it.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from ovp.api.responses import error_response
from ovp.domain.errors import AuthenticationFailed
from ovp.domain.keys import hash_secret, open_mode_account

PUBLIC_PATHS = frozenset({"/healthz", "/readyz", "/v2/openapi.json"})

AccountResolver = Callable[[str], str | None]


def bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def open_resolver(token: str) -> str:
    return open_mode_account(token)


def keys_resolver(lookup: Callable[[str], str | None]) -> AccountResolver:
    """Looks the key up by its hash: the store never sees, and never holds, the key itself."""

    def resolve(token: str) -> str | None:
        return lookup(hash_secret(token))

    return resolve


class AuthMiddleware:
    def __init__(self, app: ASGIApp, resolve: AccountResolver) -> None:
        self.app = app
        self.resolve = resolve

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in PUBLIC_PATHS:
            await self.app(scope, receive, send)
            return
        token = bearer_token(Headers(scope=scope))
        account_id = self.resolve(token) if token is not None else None
        if account_id is None:
            detail = "Send an API key as 'Authorization: Bearer <key>'." if token is None else None
            error = AuthenticationFailed(detail) if detail else AuthenticationFailed()
            await error_response(error, headers={"WWW-Authenticate": "Bearer"})(scope, receive, send)
            return
        scope.setdefault("state", {})["account_id"] = account_id
        await self.app(scope, receive, send)
