"""Queries on outbound voice profiles. Every one is scoped to an account."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, bindparam, literal_column, select

from ovp.domain.listing import ListQuery
from ovp.domain.profiles.profile import ProfileDocument
from ovp.store.database import Statement, Transaction
from ovp.store.documents import Counter, DocumentTable, contains, contains_pattern, folded_order
from ovp.store.schema import profiles

_COLUMNS = profiles.c
_OWNED = (_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.id == bindparam("profile_id"))
# A connection that names the profile holds this lock until it commits, so that a concurrent delete,
# which reads the profile FOR UPDATE before it counts the connections, waits and sees it. Not a
# share lock: the connection's write then changes the profile's connections_count, and two
# writers holding the share lock would each wait for the other to let go of it.
_LOCK_FOR_REFERENCE = Statement(select(_COLUMNS.id).where(_OWNED).with_for_update())
# The connections_count kept on the row, changed by a connection that comes to use the profile or
# stops using it (see ovp.store.documents.Counter).
_ADD_CONNECTIONS = Statement(
    profiles.update().where(_OWNED).values(connections_count=_COLUMNS.connections_count + bindparam("delta")))
_NO_CONNECTIONS_OF_ACCOUNT = Statement(
    profiles.update().where(_COLUMNS.account_id == bindparam("owner")).values(connections_count=literal_column("0")))
_NO_CONNECTIONS = Statement(profiles.update().values(connections_count=literal_column("0")))


def _count_connections(tx: Transaction, account_id: str | None, profile_id: int | None, delta: int) -> None:
    if account_id is None:
        tx.execute(_NO_CONNECTIONS)
    elif profile_id is None:
        tx.execute(_NO_CONNECTIONS_OF_ACCOUNT, {"owner": account_id})
    else:
        tx.execute(_ADD_CONNECTIONS, {"owner": account_id, "profile_id": profile_id, "delta": delta})


CONNECTIONS_COUNTER = Counter(profiles.name, "outbound_voice_profile_id", _count_connections)


def _columns(profile: ProfileDocument) -> dict[str, Any]:
    return {
        "name": profile["name"],
        # Case-folded by Python, for the case-insensitive filter and sort: SQLite's lower() folds ASCII only.
        "name_folded": profile["name"].casefold(),
        "enabled": profile["enabled"],
        "traffic_type": profile["traffic_type"],
        "service_plan": profile["service_plan"],
        "usage_payment_method": profile["usage_payment_method"],
        "created_at": profile["created_at"],
        "updated_at": profile["updated_at"],
    }


# Each read of a profile counts the connections that use it, in the same statement.
_TABLE = DocumentTable[ProfileDocument](profiles, _columns, counted=_COLUMNS.connections_count)
table = _TABLE
delete_account = _TABLE.delete_account
delete_everything = _TABLE.delete_everything


def lock_for_reference(tx: Transaction, account_id: str, profile_id: int) -> bool:
    """Whether the account has this profile; if so, it cannot be deleted until this transaction ends."""
    return bool(tx.rows(_LOCK_FOR_REFERENCE, {"owner": account_id, "profile_id": profile_id}))


@cache
def _list_statements(dialect: str, filtered: bool, sort_field: str, descending: bool) -> tuple[Statement, Statement]:
    """The count and page queries for one shape of list request."""
    condition = _COLUMNS.account_id == bindparam("owner")
    if filtered:
        condition = condition & contains(_COLUMNS.name_folded)
    sort_column: ColumnElement[Any] = (
        folded_order(_COLUMNS.name_folded, dialect) if sort_field == "name" else _COLUMNS[sort_field]
    )
    return _TABLE.page_statements(condition, sort_column, descending)


def list_page(tx: Transaction, account_id: str, query: ListQuery) -> tuple[list[tuple[ProfileDocument, int]], int]:
    """One page of profiles, each with its connections count, and the total that match, read in one
    transaction so they agree."""
    statements = _list_statements(tx.dialect.name, query.name_contains is not None, query.sort_field, query.descending)
    params: dict[str, Any] = {"owner": account_id}
    if query.name_contains is not None:
        params["pattern"] = contains_pattern(query.name_contains)
    return _TABLE.read_page(tx, statements, params, query)
