"""Queries on IPs. Every one is scoped to an account."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam, select

from ovp.domain.addresses.ip import AddressUse, IpDocument, IpListQuery, connection_of
from ovp.store import documents
from ovp.store.database import Statement, Transaction
from ovp.store.schema import connections, ips

_COLUMNS = ips.c


def _columns(ip: IpDocument) -> dict[str, Any]:
    return {"connection_id": connection_of(ip), "ip_address": ip["ip_address"], "port": ip["port"],
            "created_at": ip["created_at"], "updated_at": ip["updated_at"]}


# insert, get, replace, delete, delete_account and delete_everything, as for every table of documents.
table = documents.DocumentTable[IpDocument](ips, _columns, key=str)


@cache
def _list_statements(by_connection: bool, by_address: bool, by_port: bool) -> tuple[Statement, Statement]:
    condition = _COLUMNS.account_id == bindparam("owner")
    if by_connection:
        condition = condition & (_COLUMNS.connection_id == bindparam("connection_id"))
    if by_address:
        condition = condition & (_COLUMNS.ip_address == bindparam("ip_address"))
    if by_port:
        condition = condition & (_COLUMNS.port == bindparam("port"))
    return table.page_statements(condition, _COLUMNS.created_at, descending=True)


def list_page(tx: Transaction, account_id: str, query: IpListQuery) -> tuple[list[tuple[IpDocument, int]], int]:
    """One page of the account's IPs that match, newest first, and how many match."""
    statements = _list_statements(query.connection_id is not None, query.ip_address is not None,
                                  query.port is not None)
    params = {"owner": account_id, "connection_id": query.connection_id, "ip_address": query.ip_address,
              "port": query.port}
    return table.read_page(tx, statements, params, query.page)


_AT_ADDRESS = Statement(
    select(_COLUMNS.id, _COLUMNS.connection_id)
    .where((_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.ip_address == bindparam("ip_address"))
           & (_COLUMNS.port == bindparam("port")))
)


def at_address(tx: Transaction, account_id: str, ip_address: str, port: int) -> tuple[str, int | None] | None:
    """The account's IP at this address and port, as (id, connection id); None when none."""
    found = tx.rows(_AT_ADDRESS, {"owner": account_id, "ip_address": ip_address, "port": port})
    if not found:
        return None
    ip_id, connection_id = found[0]
    return str(ip_id), None if connection_id is None else int(connection_id)


_CONNECTIONS_AT = Statement(
    select(_COLUMNS.id, _COLUMNS.port, connections.c.id, connections.c.active, connections.c.outbound_voice_profile_id)
    .join(connections, (connections.c.account_id == _COLUMNS.account_id) & (connections.c.id == _COLUMNS.connection_id))
    .where((_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.ip_address == bindparam("ip_address")))
    .order_by(_COLUMNS.port, _COLUMNS.id)
)


def connections_at(tx: Transaction, account_id: str, ip_address: str) -> list[AddressUse]:
    """The account's IPs at `ip_address` (any port) that belong to a connection, in one statement."""
    rows = tx.rows(_CONNECTIONS_AT, {"owner": account_id, "ip_address": ip_address})
    return [AddressUse(str(ip_id), int(port), int(connection_id), bool(active),
                       None if profile_id is None else int(profile_id))
            for ip_id, port, connection_id, active, profile_id in rows]


_OF_CONNECTION = Statement(
    ips.delete().where((_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.connection_id == bindparam("cid")))
)


def delete_of_connection(tx: Transaction, account_id: str, connection_id: int) -> int:
    """Deletes the connection's IPs; answers how many there were."""
    return tx.execute(_OF_CONNECTION, {"owner": account_id, "cid": connection_id})
