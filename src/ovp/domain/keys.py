"""API keys: random, shown once, kept only as a hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from functools import lru_cache

KEY_PREFIX = "KEY"
SHOWN_PREFIX_LENGTH = 10
OPEN_ACCOUNT_PREFIX = "open:"


@dataclass(frozen=True)
class NewKey:
    id: str
    secret: str
    secret_hash: str
    shown_prefix: str


def hash_secret(secret: str) -> str:
    # Keys carry 256 random bits, so a plain SHA-256 cannot be reversed by guessing; a slow
    # password hash would only slow every request down.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key() -> NewKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    return NewKey(
        id="key_" + secrets.token_hex(8),
        secret=secret,
        secret_hash=hash_secret(secret),
        shown_prefix=secret[:SHOWN_PREFIX_LENGTH],
    )


@lru_cache(maxsize=4096)
def open_mode_account(token: str) -> str:
    """In open mode each distinct bearer token is an account of its own."""
    return OPEN_ACCOUNT_PREFIX + hashlib.sha256(token.encode()).hexdigest()[:32]
