"""Authentication: every request to a non-public route is bound to an account, or refused.

The account goes on the request, so no handler checks ownership itself: each passes the account
to the store, whose queries all take it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ovp.domain.errors import AuthenticationFailed
from ovp.domain.keys import hash_secret, open_mode_account
from ovp.store.keys import KeyOwner


@dataclass(frozen=True)
class Caller:
    """The account a request speaks for; in keys mode, the key it came with and its own rate limit."""

    account_id: str
    key_id: str | None = None
    rate_limit: str | None = None


AccountResolver = Callable[[str], Awaitable[Caller | None]]


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def open_resolver(token: str) -> Caller:
    return Caller(open_mode_account(token))


def keys_resolver(lookup: Callable[[str], Awaitable[KeyOwner | None]]) -> AccountResolver:
    """Looks the key up by its hash: the store never sees, and never holds, the key itself."""

    async def resolve(token: str) -> Caller | None:
        owner = await lookup(hash_secret(token))
        return None if owner is None else Caller(owner.account_id, owner.key_id, owner.rate_limit)

    return resolve


async def authenticate(authorization: str, resolve: AccountResolver) -> Caller:
    token = bearer_token(authorization)
    if token is None:
        raise AuthenticationFailed("Send an API key as 'Authorization: Bearer <key>'.")
    caller = await resolve(token)
    if caller is None:
        raise AuthenticationFailed()
    return caller
