"""Queries on rate decks. Every one is scoped to an account."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Select, bindparam, func, literal_column, select

from ovp.domain.calls.policy import Rate
from ovp.domain.fields import MAX_E164_DIGITS
from ovp.store.database import Statement, Transaction
from ovp.store.schema import rates

_COLUMNS = rates.c
_ACCOUNT = _COLUMNS.account_id == bindparam("owner")
_PREFIX_PARAMS = [f"p{length}" for length in range(1, MAX_E164_DIGITS + 1)]
# Every prefix of the number is a candidate (at most 15 rows match); the longest wins. One indexed
# lookup whatever the deck's size, folded into the statement that reads a call's counters (see
# ovp.store.calls) so that an authorization pays one round trip for both.
_CANDIDATES = _ACCOUNT & _COLUMNS.prefix.in_([bindparam(name) for name in _PREFIX_PARAMS])


def _longest_first(*columns: Any) -> Select[Any]:
    """`columns` of the candidate with the longest prefix."""
    return (select(*columns).where(_CANDIDATES)
            .order_by(func.length(_COLUMNS.prefix).desc()).limit(literal_column("1")).offset(literal_column("0")))


def _as_text(prefix: Any, per_minute: Any) -> Any:
    """A prefix and its rate as one column, "prefix rate", as matched() reads it."""
    return prefix + literal_column("' '") + per_minute


# The longest prefix and its rate in one subquery, as "prefix rate": a scalar subquery answers one
# column, and a second one would look the deck up again.
LONGEST_MATCH = _longest_first(_as_text(_COLUMNS.prefix, _COLUMNS.per_minute)).scalar_subquery()
# The same lookup as a row of two columns, for a statement that stores what it found and answers
# it too (BEST_MATCH_TEXT, as LONGEST_MATCH answers it): the deck is looked up once.
BEST_MATCH = _longest_first(_COLUMNS.prefix, _COLUMNS.per_minute).cte("best_rate")
BEST_MATCH_TEXT = select(_as_text(BEST_MATCH.c.prefix, BEST_MATCH.c.per_minute)).scalar_subquery()


def match_params(account_id: str, digits: str) -> dict[str, str]:
    """The parameters of LONGEST_MATCH for a number's digits. Numbers shorter than the longest
    prefix repeat their last candidate: duplicates in IN are harmless, and the statement stays one
    compiled shape."""
    return {"owner": account_id, **{name: digits[:length] for length, name in enumerate(_PREFIX_PARAMS, start=1)}}


def matched(found: str | None) -> Rate | None:
    """The rate LONGEST_MATCH found, if any."""
    if found is None:
        return None
    prefix, per_minute = found.split(" ")
    return Rate(prefix, Decimal(per_minute))


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


def replace_deck(tx: Transaction, account_id: str, deck: dict[str, Decimal]) -> int:
    """Puts `deck` in place of the account's rates, in the caller's transaction: calls see the old
    deck or the new one, never a mix."""
    delete_account(tx, account_id)
    if deck:
        # Made as they are sent: a whole deck's rows at once would hold the event loop a while.
        tx.execute_many(_INSERT, ({"account_id": account_id, "prefix": prefix, "per_minute": str(rate)}
                                  for prefix, rate in deck.items()))
    return len(deck)


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
