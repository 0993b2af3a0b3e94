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
_ACCOUNT_FOR = Statement(select(_COLUMNS.account_id).where((_COLUMNS.secret_hash == bindparam("hash")) & _ACTIVE))
_ALL = Statement(
    select(_COLUMNS.id, _COLUMNS.account_id, _COLUMNS.shown_prefix, _COLUMNS.created_at, _COLUMNS.revoked_at)
    .order_by(_COLUMNS.created_at, _COLUMNS.id)
)
_REVOKE = Statement(
    api_keys.update().where((_COLUMNS.id == bindparam("key_id")) & _ACTIVE).values(revoked_at=bindparam("now"))
)
_COUNT_ACTIVE = Statement(select(func.count()).select_from(api_keys).where(_ACTIVE))


@dataclass(frozen=True)
class KeyRecord:
    id: str
    account_id: str
    shown_prefix: str
    created_at: str
    revoked_at: str | None


def insert(tx: Transaction, account_id: str, key: NewKey, now: str) -> None:
    tx.execute(_INSERT, {"id": key.id, "account_id": account_id, "secret_hash": key.secret_hash,
                         "shown_prefix": key.shown_prefix, "created_at": now, "revoked_at": None})


def account_for(tx: Transaction, secret_hash: str) -> str | None:
    """The account of an active key with this hash, or None."""
    account: str | None = tx.scalar(_ACCOUNT_FOR, {"hash": secret_hash})
    return account


def all_keys(tx: Transaction) -> list[KeyRecord]:
    return [KeyRecord(*row) for row in tx.rows(_ALL)]


def revoke(tx: Transaction, key_id: str, now: str) -> bool:
    """Marks the key revoked; False when there is no such active key."""
    return tx.execute(_REVOKE, {"key_id": key_id, "now": now}) == 1


def count_active(tx: Transaction) -> int:
    return int(tx.scalar(_COUNT_ACTIVE))
