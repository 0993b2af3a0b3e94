"""Queries on FQDNs. Every one is scoped to an account."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam

from ovp.domain.addresses.fqdn import FqdnDocument, FqdnListQuery
from ovp.store import documents
from ovp.store.database import Statement, Transaction
from ovp.store.schema import fqdns

_COLUMNS = fqdns.c


def _columns(fqdn: FqdnDocument) -> dict[str, Any]:
    return {"connection_id": int(fqdn["connection_id"]), "fqdn": fqdn["fqdn"], "port": fqdn["port"],
            "dns_record_type": fqdn["dns_record_type"], "created_at": fqdn["created_at"],
            "updated_at": fqdn["updated_at"]}


# insert, get, replace, delete, delete_account and delete_everything, as for every table of documents.
table = documents.DocumentTable[FqdnDocument](fqdns, _columns)

_FILTERS = ("connection_id", "fqdn", "port", "dns_record_type")


@cache
def _list_statements(filtered: tuple[str, ...]) -> tuple[Statement, Statement]:
    condition = _COLUMNS.account_id == bindparam("owner")
    for name in filtered:
        condition = condition & (_COLUMNS[name] == bindparam(name))
    return table.page_statements(condition, _COLUMNS.created_at, descending=True)


def list_page(tx: Transaction, account_id: str, query: FqdnListQuery) -> tuple[list[tuple[FqdnDocument, int]], int]:
    """One page of the account's FQDNs that match, newest first, and how many match."""
    values = {name: getattr(query, name) for name in _FILTERS}
    filtered = tuple(name for name, value in values.items() if value is not None)
    params = {"owner": account_id, **{name: values[name] for name in filtered}}
    return table.read_page(tx, _list_statements(filtered), params, query.page)


_OF_CONNECTION = Statement(
    fqdns.delete().where((_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.connection_id == bindparam("cid")))
)


def delete_of_connection(tx: Transaction, account_id: str, connection_id: int) -> int:
    """Deletes the connection's FQDNs; answers how many there were."""
    return tx.execute(_OF_CONNECTION, {"owner": account_id, "cid": connection_id})
