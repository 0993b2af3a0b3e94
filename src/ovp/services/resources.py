"""The five operations of every Telnyx-style resource (list, create, retrieve, update, delete),
written once. A resource is declared in its service module as a `Resource`: its documents' kind
(the rules, ovp.domain), its table (ovp.store), its list query, and hooks for what is truly its own.
Each operation runs inside the transaction its caller opened and answers what the API shows; a body
arrives parsed (`kind.parse_new`, `kind.parse_changes`), so that a bad one never joins a group
commit."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from ovp.domain.clock import now_timestamp
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import ListQuery, PageMeta
from ovp.domain.resource import Changes, Kind, View
from ovp.services.creating import with_new
from ovp.store.database import Transaction
from ovp.store.documents import DocumentTable

D = TypeVar("D", bound=Mapping[str, Any])
K = TypeVar("K")
Q = TypeVar("Q", bound="Paged")


class Paged(Protocol):
    """A list query: whatever it filters by, the page it asks for."""

    @property
    def page(self) -> ListQuery: ...


# A page of the account's documents that match a query, each with its counted number, and how many match.
Find = Callable[[Transaction, str, Q], tuple[list[tuple[D, int]], int]]


def _no_check(_tx: Transaction, _account_id: str, _document: Any, _previous: Any) -> None:
    return None


def _nothing_before(_tx: Transaction, _account_id: str, _document: Any) -> None:
    return None


@dataclass(frozen=True)
class Hooks(Generic[D]):
    """What a resource does beyond the five operations. `check(tx, account_id, document, previous)`
    runs before a document is stored (`previous` None when it is new): references to other
    resources, uniqueness. `before_delete(tx, account_id, document)` runs before it is deleted: a
    refusal while it is in use, or what goes with it."""

    check: Callable[[Transaction, str, D, D | None], None] = _no_check
    before_delete: Callable[[Transaction, str, D], None] = _nothing_before


@dataclass(frozen=True)
class Resource(Generic[D, K, Q]):
    kind: Kind[D, K]
    table: DocumentTable[D]
    parse_query: Callable[[Mapping[str, str]], Q]
    find: Find[Q, D]
    hooks: Hooks[D] = field(default_factory=Hooks)

    def list_page(self, tx: Transaction, account_id: str, query: Q) -> tuple[list[View], PageMeta]:
        found, total = self.find(tx, account_id, query)
        return [self.kind.view(document, counted) for document, counted in found], PageMeta.of(query.page, total)

    def create(self, tx: Transaction, account_id: str, changes: Changes, ids: IdGenerator) -> Revised[View]:
        now = now_timestamp()

        def insert(resource_id: K) -> Revised[D]:
            document = self.kind.made(resource_id, account_id, changes, now, now)
            self.hooks.check(tx, account_id, document, None)
            return self.table.insert(tx, account_id, document)

        stored = with_new(self.kind.ids, ids, insert)
        # No other resource can name a new id yet: nothing counts it.
        return Revised(self.kind.shown_written(stored.value, None, 0), stored.revision)

    def retrieve(self, tx: Transaction, account_id: str, resource_id: K) -> Revised[View]:
        stored, counted = self.table.get_counted(tx, account_id, resource_id)
        return Revised(self.kind.view(stored.value, counted), stored.revision)

    def update(self, tx: Transaction, account_id: str, resource_id: K, changes: Changes,
               if_match: str | None = None) -> Revised[View]:
        stored, previous, counted = self.revise(tx, account_id, resource_id, changes, if_match)
        return Revised(self.kind.shown_written(stored.value, previous, counted), stored.revision)

    def revise(self, tx: Transaction, account_id: str, resource_id: K, changes: Changes,
               if_match: str | None = None) -> tuple[Revised[D], D, int]:
        """An update, answered as stored, with the document it replaced and its counted number: for
        a view of the resource other than its own (an FQDN connection's authentication)."""
        current, counted = self.table.get_counted(tx, account_id, resource_id, for_update=True)
        check_if_match(if_match, current)
        document = self.kind.apply(current.value, changes, now_timestamp())
        self.hooks.check(tx, account_id, document, current.value)
        return self.table.replace(tx, account_id, current, document), current.value, counted

    def delete(self, tx: Transaction, account_id: str, resource_id: K, if_match: str | None = None) -> Revised[View]:
        """Answers the resource as it was."""
        current = self.table.get(tx, account_id, resource_id, for_update=True)
        check_if_match(if_match, current)
        self.hooks.before_delete(tx, account_id, current.value)
        self.table.delete(tx, account_id, current)
        return Revised(self.kind.shown_deleted(current.value, now_timestamp()), current.revision)
