"""Authentication: every request to a non-public route is bound to an account, or refused.

The account goes on the request, so no handler checks ownership itself: each passes the account
to the store, whose queries all take it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ovp.domain.errors import AuthenticationFailed
from ovp.domain.keys import hash_secret, open_mode_account

AccountResolver = Callable[[str], Awaitable[str | None]]


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def open_resolver(token: str) -> str:
    return open_mode_account(token)


def keys_resolver(lookup: Callable[[str], Awaitable[str | None]]) -> AccountResolver:
    """Looks the key up by its hash: the store never sees, and never holds, the key itself."""

    async def resolve(token: str) -> str | None:
        return await lookup(hash_secret(token))

    return resolve


async def authenticate(authorization: str, resolve: AccountResolver) -> str:
    token = bearer_token(authorization)
    if token is None:
        raise AuthenticationFailed("Send an API key as 'Authorization: Bearer <key>'.")
    account_id = await resolve(token)
    if account_id is None:
        raise AuthenticationFailed()
    return account_id
