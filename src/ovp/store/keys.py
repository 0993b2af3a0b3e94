"""Queries on API keys. Only hashes are stored; a key's secret is never read back."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, func, select

from ovp.domain.keys import NewKey
from ovp.store.database import Statement, Transaction
from ovp.store.schema import api_keys

_COLUMNS = api_keys.c
_ACTIVE = _COLUMNS.revoked_at.is_(None)

_INSERT = Statement(api_keys.insert())
_OWNER = Statement(
    select(_COLUMNS.account_id, _COLUMNS.id, _COLUMNS.rate_limit)
    .where((_COLUMNS.secret_hash == bindparam("hash")) & _ACTIVE)
)
_ALL = Statement(
    select(_COLUMNS.id, _COLUMNS.account_id, _COLUMNS.shown_prefix, _COLUMNS.created_at, _COLUMNS.revoked_at,
           _COLUMNS.rate_limit)
    .order_by(_COLUMNS.created_at, _COLUMNS.id)
)
_REVOKE = Statement(
    api_keys.update().where((_COLUMNS.id == bindparam("key_id")) & _ACTIVE).values(revoked_at=bindparam("now"))
)
_COUNT_ACTIVE = Statement(select(func.count()).select_from(api_keys).where(_ACTIVE))
_ACCOUNTS = Statement(select(_COLUMNS.account_id).distinct())


@dataclass(frozen=True)
class KeyRecord:
    id: str
    account_id: str
    shown_prefix: str
    created_at: str
    revoked_at: str | None
    rate_limit: str | None


@dataclass(frozen=True)
class KeyOwner:
    """Who an active key speaks for, and the rate limit of its own, if any."""

    account_id: str
    key_id: str
    rate_limit: str | None


def insert(tx: Transaction, account_id: str, key: NewKey, now: str, rate_limit: str | None = None) -> None:
    tx.execute(_INSERT, {"id": key.id, "account_id": account_id, "secret_hash": key.secret_hash,
                         "shown_prefix": key.shown_prefix, "created_at": now, "revoked_at": None,
                         "rate_limit": rate_limit})


def owner_of(tx: Transaction, secret_hash: str) -> KeyOwner | None:
    """The owner of an active key with this hash, or None."""
    found = tx.rows(_OWNER, {"hash": secret_hash})
    return KeyOwner(*found[0]) if found else None


def all_keys(tx: Transaction) -> list[KeyRecord]:
    return [KeyRecord(*row) for row in tx.rows(_ALL)]


def revoke(tx: Transaction, key_id: str, now: str) -> bool:
    """Marks the key revoked; False when there is no such active key."""
    return tx.execute(_REVOKE, {"key_id": key_id, "now": now}) == 1


def count_active(tx: Transaction) -> int:
    return int(tx.scalar(_COUNT_ACTIVE))


def accounts(tx: Transaction) -> set[str]:
    """The accounts any key (revoked or not) was made for."""
    return {row[0] for row in tx.rows(_ACCOUNTS)}
