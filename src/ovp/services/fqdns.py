"""The five FQDN operations. Each runs inside the transaction its caller opened, and answers the
FQDN as the API shows it."""

from __future__ import annotations

from typing import Any

from ovp.domain import fqdn as rules
from ovp.domain.clock import now_timestamp
from ovp.domain.errors import InvalidInput, NotFound, Problem
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.fqdn import FqdnDocument, FqdnListQuery
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import PageMeta
from ovp.domain.validation import BAD_VALUE
from ovp.services.creating import with_new_id
from ovp.store import connections as connection_store
from ovp.store import fqdns as store
from ovp.store.database import Transaction


def _shown(fqdn: Revised[FqdnDocument]) -> Revised[dict[str, Any]]:
    return Revised(dict(fqdn.value), fqdn.revision)


def check(tx: Transaction, account_id: str, fqdn: FqdnDocument) -> None:
    """The FQDN's connection must be one of the account's FQDN connections, locked until this
    transaction ends so that it is not deleted meanwhile."""
    try:
        connection_store.fqdn_connections.get(tx, account_id, int(fqdn["connection_id"]), for_update=True)
    except NotFound:
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, f"connection_id: the account has no FQDN connection "
                                    f"{fqdn['connection_id']}.", pointer="/connection_id")]) from None


def create(tx: Transaction, account_id: str, body: object, ids: IdGenerator) -> Revised[dict[str, Any]]:
    changes = rules.parse_new(body)
    now = now_timestamp()

    def insert(fqdn_id: int) -> Revised[FqdnDocument]:
        fqdn = rules.apply_changes(rules.new_fqdn(fqdn_id, now), changes, now)
        check(tx, account_id, fqdn)
        return store.table.insert(tx, account_id, fqdn)

    return _shown(with_new_id(ids, insert))


def retrieve(tx: Transaction, account_id: str, fqdn_id: int) -> Revised[dict[str, Any]]:
    return _shown(store.table.get(tx, account_id, fqdn_id))


def update(
    tx: Transaction, account_id: str, fqdn_id: int, body: object, if_match: str | None = None
) -> Revised[dict[str, Any]]:
    current = store.table.get(tx, account_id, fqdn_id, for_update=True)
    check_if_match(if_match, current)
    fqdn = rules.apply_changes(current.value, rules.parse_changes(body), now_timestamp())
    check(tx, account_id, fqdn)
    return _shown(store.table.replace(tx, account_id, current, fqdn))


def delete(tx: Transaction, account_id: str, fqdn_id: int, if_match: str | None = None) -> Revised[dict[str, Any]]:
    """Answers the FQDN as it was."""
    current = store.table.get(tx, account_id, fqdn_id, for_update=True)
    check_if_match(if_match, current)
    store.table.delete(tx, account_id, current)
    return _shown(current)


def list_page(tx: Transaction, account_id: str, query: FqdnListQuery) -> tuple[list[dict[str, Any]], PageMeta]:
    found, total = store.list_page(tx, account_id, query)
    return [dict(fqdn) for fqdn in found], PageMeta.of(query.page, total)
