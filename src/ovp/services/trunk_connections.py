"""The five operations of a kind of connection that is a SIP trunk, IP or FQDN: the same rules for
both, each kind bringing its own fields, and its addresses (IPs or FQDNs), which go with it. Each
operation runs inside the transaction its caller opened, and answers the connection as the API
shows it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ovp.domain.clock import now_timestamp
from ovp.domain.connection import outbound_profile_id
from ovp.domain.connection_listing import ConnectionListQuery
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import PageMeta
from ovp.services.connections import check_profile
from ovp.services.creating import with_new_id
from ovp.store import connections as store
from ovp.store.database import Transaction
from ovp.store.documents import DocumentTable

Document = dict[str, Any]


@dataclass(frozen=True)
class TrunkKind:
    record_type: str
    table: DocumentTable[Document]
    new: Callable[[int, str], Document]  # every default, before the client's fields apply
    parse_new: Callable[[object], Document]
    parse_changes: Callable[[object], Document]
    apply_changes: Callable[[Document, Document, str], Document]
    delete_addresses: Callable[[Transaction, str, int], int]  # the connection's IPs or FQDNs

    def create(self, tx: Transaction, account_id: str, body: object, ids: IdGenerator) -> Revised[Document]:
        changes = self.parse_new(body)
        now = now_timestamp()

        def insert(connection_id: int) -> Revised[Document]:
            connection = self.apply_changes(self.new(connection_id, now), changes, now)
            check_profile(tx, account_id, connection)
            return self.table.insert(tx, account_id, connection)

        return with_new_id(ids, insert)

    def retrieve(self, tx: Transaction, account_id: str, connection_id: int) -> Revised[Document]:
        return self.table.get(tx, account_id, connection_id)

    def update(self, tx: Transaction, account_id: str, connection_id: int, body: object,
               if_match: str | None = None) -> Revised[Document]:
        current = self.table.get(tx, account_id, connection_id, for_update=True)
        check_if_match(if_match, current)
        connection = self.apply_changes(current.value, self.parse_changes(body), now_timestamp())
        if outbound_profile_id(connection) != outbound_profile_id(current.value):
            check_profile(tx, account_id, connection)
        return self.table.replace(tx, account_id, current, connection)

    def delete(self, tx: Transaction, account_id: str, connection_id: int,
               if_match: str | None = None) -> Revised[Document]:
        """Answers the connection as it was; its addresses go with it."""
        current = self.table.get(tx, account_id, connection_id, for_update=True)
        check_if_match(if_match, current)
        self.delete_addresses(tx, account_id, connection_id)
        self.table.delete(tx, account_id, current)
        return current

    def list_page(self, tx: Transaction, account_id: str,
                  query: ConnectionListQuery) -> tuple[list[Document], PageMeta]:
        page, total = store.list_page(tx, account_id, query, self.record_type)
        return page, PageMeta.of(query.page, total)
