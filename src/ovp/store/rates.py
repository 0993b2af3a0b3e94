"""Queries on rate decks. Every one is scoped to an account."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, func, select

from ovp.domain.call_policy import Rate
from ovp.domain.fields import MAX_E164_DIGITS
from ovp.store.database import Statement, Transaction
from ovp.store.schema import rates

_COLUMNS = rates.c
_ACCOUNT = _COLUMNS.account_id == bindparam("owner")
_PREFIX_PARAMS = [f"p{length}" for length in range(1, MAX_E164_DIGITS + 1)]
# Every prefix of the number is a candidate (at most 15 rows match); the longest wins. One
# indexed query whatever the deck's size.
_MATCH = Statement(
    select(_COLUMNS.prefix, _COLUMNS.per_minute)
    .where(_ACCOUNT & _COLUMNS.prefix.in_([bindparam(name) for name in _PREFIX_PARAMS]))
)
_INSERT = Statement(rates.insert())
_DELETE_ACCOUNT = Statement(rates.delete().where(_ACCOUNT))
_DELETE_EVERYTHING = Statement(rates.delete())
_COUNT = Statement(select(func.count()).select_from(rates).where(_ACCOUNT))
_PAGE = Statement(
    select(_COLUMNS.prefix, _COLUMNS.per_minute).where(_ACCOUNT & _COLUMNS.prefix.startswith(bindparam("starts")))
    .order_by(_COLUMNS.prefix).limit(bindparam("limit")).offset(bindparam("offset"))
)
_COUNT_STARTING = Statement(
    select(func.count()).select_from(rates).where(_ACCOUNT & _COLUMNS.prefix.startswith(bindparam("starts")))
)


class AccountRates:
    """An account's deck as the call rules look rates up: one query per number."""

    def __init__(self, tx: Transaction, account_id: str) -> None:
        self._tx = tx
        self._account_id = account_id

    def match(self, digits: str) -> Rate | None:
        # Numbers shorter than the longest prefix repeat their last candidate: duplicates in IN
        # are harmless, and the statement stays one compiled shape.
        params = {name: digits[:length] for length, name in enumerate(_PREFIX_PARAMS, start=1)}
        found = self._tx.rows(_MATCH, {"owner": self._account_id, **params})
        if not found:
            return None
        prefix, per_minute = max(found, key=lambda row: len(row[0]))
        return Rate(prefix, Decimal(per_minute))


def replace_deck(tx: Transaction, account_id: str, deck: dict[str, Decimal]) -> int:
    """Puts `deck` in place of the account's rates, in the caller's transaction: calls see the old
    deck or the new one, never a mix."""
    delete_account(tx, account_id)
    rows = [{"account_id": account_id, "prefix": prefix, "per_minute": str(rate)} for prefix, rate in deck.items()]
    if rows:
        tx.execute_many(_INSERT, rows)
    return len(rows)


def page(tx: Transaction, account_id: str, starts: str, limit: int, offset: int) -> tuple[list[Rate], int]:
    """One page of the account's rates in prefix order, with the total; `starts` filters prefixes."""
    params = {"owner": account_id, "starts": starts}
    total = int(tx.scalar(_COUNT_STARTING if starts else _COUNT, params))
    rows = tx.rows(_PAGE, {**params, "limit": limit, "offset": offset}) if offset < total else []
    return [Rate(prefix, Decimal(per_minute)) for prefix, per_minute in rows], total


def delete_account(tx: Transaction, account_id: str) -> int:
    return tx.execute(_DELETE_ACCOUNT, {"owner": account_id})


def delete_everything(tx: Transaction) -> int:
    return tx.execute(_DELETE_EVERYTHING)
