"""Queries on an account's own settings: its channel limit. An account without a row has the
defaults (no limit)."""

from __future__ import annotations

from sqlalchemy import bindparam, select, text

from ovp.store.database import Statement, Transaction
from ovp.store.schema import accounts

_COLUMNS = accounts.c
_OWNED = _COLUMNS.account_id == bindparam("owner")
_LIMIT = Statement(select(_COLUMNS.channel_limit).where(_OWNED))
_LOCKED_LIMIT = Statement(select(_COLUMNS.channel_limit).where(_OWNED).with_for_update())
# The same upsert is valid on SQLite (3.24+) and PostgreSQL.
_SET_LIMIT = Statement(text(
    "INSERT INTO accounts (account_id, channel_limit) VALUES (:owner, :channel_limit) "
    "ON CONFLICT (account_id) DO UPDATE SET channel_limit = excluded.channel_limit"
))
_DELETE_ACCOUNT = Statement(accounts.delete().where(_OWNED))
_DELETE_EVERYTHING = Statement(accounts.delete())


def channel_limit(tx: Transaction, account_id: str, *, for_update: bool = False) -> int | None:
    """The account's channel limit; `for_update` locks the account's row until the transaction
    ends, so that the authorizations that count against the limit, on any server, run one after
    another. Read once a transaction (the authorizations of a group share it), and once more to
    lock it: a limit another server sets meanwhile counts from the transactions after."""
    read, locked = ("channel_limit", account_id), ("channel_limit locked", account_id)
    if locked in tx.remembered or (read in tx.remembered and not for_update):
        return tx.remembered[read]  # type: ignore[no-any-return]
    found = tx.rows(_LOCKED_LIMIT if for_update else _LIMIT, {"owner": account_id})
    limit = None if not found or found[0][0] is None else int(found[0][0])
    tx.remembered[read] = limit
    if for_update:
        tx.remembered[locked] = True
    return limit


def remember_channel_limit(tx: Transaction, account_id: str, limit: int | None) -> None:
    """The limit as another statement of the transaction read it (unlocked), unless the transaction
    knows it already: what it knows is as new, or its own write."""
    tx.remembered.setdefault(("channel_limit", account_id), limit)


def set_channel_limit(tx: Transaction, account_id: str, limit: int | None) -> None:
    tx.execute(_SET_LIMIT, {"owner": account_id, "channel_limit": limit})
    tx.remembered[("channel_limit", account_id)] = limit


def delete_account(tx: Transaction, account_id: str) -> int:
    tx.remembered[("channel_limit", account_id)] = None
    return tx.execute(_DELETE_ACCOUNT, {"owner": account_id})


def delete_everything(tx: Transaction) -> int:
    tx.remembered.clear()
    return tx.execute(_DELETE_EVERYTHING)
