"""`/v2/connections`: the account's connections of every kind, as Telnyx's `Connection` shows them,
and the calls in progress on each. Each runs inside the transaction its caller opened."""

from __future__ import annotations

from typing import Any

from ovp.domain.calls.active_call import ActiveCall
from ovp.domain.connections.listing import ConnectionListQuery
from ovp.domain.connections.summary import connection_count, summary
from ovp.domain.listing import ListQuery, PageMeta
from ovp.store import calls as call_store
from ovp.store import connections as connection_store
from ovp.store.database import Transaction


def list_page(tx: Transaction, account_id: str, query: ConnectionListQuery) -> tuple[list[dict[str, Any]], PageMeta]:
    page, total = connection_store.list_page(tx, account_id, query, None)
    return [summary(connection) for connection, _counted in page], PageMeta.of(query.page, total)


def count(tx: Transaction, account_id: str) -> dict[str, Any]:
    """The account's connections by kind, as Telnyx's `GET /v2/connections/count` answers them."""
    return connection_count(connection_store.count_by_kind(tx, account_id))


def retrieve(tx: Transaction, account_id: str, connection_id: int) -> dict[str, Any]:
    return summary(connection_store.any_kind.get(tx, account_id, connection_id).value)


def active_calls(
    tx: Transaction, account_id: str, connection_id: int, page: ListQuery, now_ms: int
) -> tuple[list[dict[str, Any]], PageMeta]:
    """The connection's calls that hold a slot at `now_ms` (authorized, neither ended nor expired),
    oldest first; NotFound unless the account has the connection."""
    connection_store.any_kind.get(tx, account_id, connection_id)
    rows, total = call_store.active_of_connection(tx, account_id, connection_id, now_ms,
                                                  limit=page.page_size, offset=page.offset)
    return [ActiveCall(*row).view(now_ms) for row in rows], PageMeta.of(page, total)
