"""The five FQDN connection operations. Each runs inside the transaction its caller opened, and
answers the connection as the API shows it."""

from __future__ import annotations

from typing import Any

from ovp.domain import fqdn_connection as rules
from ovp.domain.clock import now_timestamp
from ovp.domain.connection import outbound_profile_id
from ovp.domain.connection_listing import ConnectionListQuery
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import PageMeta
from ovp.services.all_connections import matching
from ovp.services.connections import check_profile
from ovp.services.creating import with_new_id
from ovp.store import connections as store
from ovp.store import fqdns as fqdn_store
from ovp.store.database import Transaction


def create(tx: Transaction, account_id: str, body: object, ids: IdGenerator) -> Revised[dict[str, Any]]:
    changes = rules.parse_new(body)
    now = now_timestamp()

    def insert(connection_id: int) -> Revised[dict[str, Any]]:
        connection = rules.apply_changes(rules.new_fqdn_connection(connection_id, now), changes, now)
        check_profile(tx, account_id, connection)
        return store.fqdn_connections.insert(tx, account_id, connection)

    return with_new_id(ids, insert)


def retrieve(tx: Transaction, account_id: str, connection_id: int) -> Revised[dict[str, Any]]:
    return store.fqdn_connections.get(tx, account_id, connection_id)


def update(
    tx: Transaction, account_id: str, connection_id: int, body: object, if_match: str | None = None
) -> Revised[dict[str, Any]]:
    current = store.fqdn_connections.get(tx, account_id, connection_id, for_update=True)
    check_if_match(if_match, current)
    connection = rules.apply_changes(current.value, rules.parse_changes(body), now_timestamp())
    if outbound_profile_id(connection) != outbound_profile_id(current.value):
        check_profile(tx, account_id, connection)
    return store.fqdn_connections.replace(tx, account_id, current, connection)


def delete(
    tx: Transaction, account_id: str, connection_id: int, if_match: str | None = None
) -> Revised[dict[str, Any]]:
    """Answers the connection as it was; its FQDNs go with it."""
    current = store.fqdn_connections.get(tx, account_id, connection_id, for_update=True)
    check_if_match(if_match, current)
    fqdn_store.delete_of_connection(tx, account_id, connection_id)
    store.fqdn_connections.delete(tx, account_id, current)
    return current


def list_page(
    tx: Transaction, account_id: str, query: ConnectionListQuery
) -> tuple[list[dict[str, Any]], PageMeta]:
    page, total = matching(tx, account_id, query, rules.RECORD_TYPE)
    return page, PageMeta.of(query.page, total)
