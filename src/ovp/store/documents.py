"""What the tables of wire documents share: first revisions, id clashes, and list pages.

A resource is stored as its wire document (JSON text) beside the columns it is filtered and sorted
by. A list is a count and a page of one shape of query, read in one transaction so that they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import Column, ColumnElement, Table, bindparam, func, literal_column, select

from ovp.domain.errors import NotFound
from ovp.domain.etags import Revised
from ovp.domain.listing import ListQuery
from ovp.store.database import Statement, Transaction

FIRST_REVISION = 1
LIKE_ESCAPE = "/"
D = TypeVar("D", bound=Mapping[str, Any])


class DuplicateId(Exception):
    """Another process made the same id; the caller draws a new one and tries again."""


@dataclass(frozen=True)
class Counter:
    """A count kept on the rows of another table (`table`), of the rows of this one that name them
    in `column` (of the columns a document gives): `change(tx, account_id, key, delta)` adds `delta`
    to the count of the account's row `key`; with `key` None, sets every count of the account to 0,
    and with `account_id` None too, every count (its rows are all being deleted)."""

    table: str
    column: str
    change: Callable[[Transaction, str | None, Any, int], None]


class DocumentTable(Generic[D]):
    """The account-scoped reads and writes of one table of documents. `columns` gives the values of
    the columns kept beside a document (those it is filtered and sorted by, and the document).

    `counted`: a number read in the same statement as each row (a profile's connections count),
    answered by `get_counted` (a column of the row, or a subquery). `counts_in`: the count kept on
    another table's rows that this table's writes change (a connection changes its profile's).
    `key`: the id column's value of a document's id (a number, unless the resource's ids are
    UUIDs). `kind`: the record_type of this resource's rows, when the table holds several kinds
    (connections); a row of another kind is not found. Deleting an account's rows, or every row, takes every kind."""

    def __init__(
        self, table: Table, columns: Callable[[D], dict[str, Any]], *,
        counted: ColumnElement[Any] | None = None, counts_in: Counter | None = None, key: Callable[[str], Any] = int,
        kind: str | None = None,
    ) -> None:
        self._name = table.name if kind is None else f"{table.name}:{kind}"
        self._table = table
        self._counted = counted
        self._columns = columns
        self._counts_in = counts_in
        self._key = key
        c = table.c
        owned = (c.account_id == bindparam("owner")) & (c.id == bindparam("row_id"))
        if kind is not None:
            # Written into the statement: its compiled text is run with only the caller's parameters.
            assert kind.isidentifier(), "a kind is a constant of the code, such as credential_connection"
            owned = owned & (c.record_type == literal_column(f"'{kind}'"))
        # A count kept on the row is changed by the writes of what it counts, never by the row's own.
        self._kept_count = counted.name if isinstance(counted, Column) and counted.table is table else None
        unwritten = ("id", "account_id", "revision", self._kept_count)
        stored = [column.name for column in table.columns if column.name not in unwritten]
        read = [c.document, c.revision, counted if counted is not None else literal_column("0")]
        self._insert = Statement(table.insert())
        self._select = Statement(select(*read).where(owned))
        self._select_for_update = Statement(select(*read).where(owned).with_for_update(of=table))
        self._update = Statement(table.update().where(owned).values(
            revision=c.revision + literal_column("1"), **{name: bindparam(f"new_{name}") for name in stored}
        ))
        self._delete = Statement(table.delete().where(owned))
        self._delete_account = Statement(table.delete().where(c.account_id == bindparam("owner")))
        self._delete_everything = Statement(table.delete())

    @property
    def table(self) -> Table:
        return self._table

    def values(self, document: D) -> dict[str, Any]:
        return {**self._columns(document), "document": orjson.dumps(document).decode()}

    def insert(self, tx: Transaction, account_id: str, document: D) -> Revised[D]:
        values = {"id": self._key(document["id"]), "account_id": account_id, "revision": FIRST_REVISION,
                  **self.values(document)}
        if self._kept_count is not None:
            values[self._kept_count] = 0  # nothing counted yet uses a new row
        if not tx.insert_unique(self._insert, values):
            raise DuplicateId(document["id"])
        tx.forget_reads_of(self._table.name)
        self._changed_counts(tx, account_id, None, document)
        return Revised(document, FIRST_REVISION)

    def get(self, tx: Transaction, account_id: str, row_id: Any, *, for_update: bool = False) -> Revised[D]:
        return self.get_counted(tx, account_id, row_id, for_update=for_update)[0]

    def get_counted(
        self, tx: Transaction, account_id: str, row_id: Any, *, for_update: bool = False
    ) -> tuple[Revised[D], int]:
        """The account's row and its counted number; `for_update` locks the row until the
        transaction ends, and a row this transaction locked already is not read again. (Read
        with the lock, the number is the one of the statement's snapshot: a connection that
        another transaction attached while this one waited for the lock is counted by the next
        read.)"""
        key = (self._name, account_id, row_id)
        known = tx.locked.get(key) if for_update else None
        if known is None:
            found = tx.rows(self._select_for_update if for_update else self._select,
                            {"owner": account_id, "row_id": row_id})
            if not found:
                raise NotFound()
            known = (found[0][0], found[0][1], int(found[0][2]))
            if for_update:
                tx.locked[key] = known
        document, revision, counted = known
        return Revised(load(document), revision), counted

    def replace(self, tx: Transaction, account_id: str, current: Revised[D], document: D) -> Revised[D]:
        """Stores `document` over `current`, which the caller read with for_update=True. Nothing
        waits for the UPDATE's answer (the locked row is there to change), so it may go with the
        transaction's next statement (see Transaction.execute_later)."""
        row_id = self._key(document["id"])
        values = self.values(document)
        revised = Revised(document, current.revision + 1)
        key = (self._name, account_id, row_id)
        known = tx.locked.pop(key, None)
        if known is not None:
            tx.locked[key] = (values["document"], revised.revision, known[2])
        tx.execute_later(self._update, {"owner": account_id, "row_id": row_id,
                                        **{f"new_{name}": value for name, value in values.items()}})
        tx.forget_reads_of(self._table.name)
        self._changed_counts(tx, account_id, current.value, document)
        return revised

    def delete(self, tx: Transaction, account_id: str, current: Revised[D]) -> None:
        """Deletes `current`, which the caller read with for_update=True."""
        row_id = self._key(current.value["id"])
        tx.locked.pop((self._name, account_id, row_id), None)
        tx.forget_reads_of(self._table.name)
        tx.execute(self._delete, {"owner": account_id, "row_id": row_id})
        self._changed_counts(tx, account_id, current.value, None)

    def delete_account(self, tx: Transaction, account_id: str) -> int:
        """Deletes every row of the account; answers how many there were."""
        tx.locked.clear()
        tx.forget_reads_of(self._table.name)
        if self._counts_in is not None:
            self._counts_in.change(tx, account_id, None, 0)
        return tx.execute(self._delete_account, {"owner": account_id})

    def delete_everything(self, tx: Transaction) -> int:
        tx.locked.clear()
        tx.forget_reads_of(self._table.name)
        if self._counts_in is not None:
            self._counts_in.change(tx, None, None, 0)
        return tx.execute(self._delete_everything)

    def page_statements(self, condition: ColumnElement[bool], sort_column: ColumnElement[Any],
                        descending: bool) -> tuple[Statement, Statement]:
        """The count and page queries of one shape of list request over this table (see page_statements)."""
        return page_statements(self._table, condition, sort_column, descending, counted=self._counted)

    def read_page(self, tx: Transaction, statements: tuple[Statement, Statement], params: dict[str, Any],
                  query: ListQuery) -> tuple[list[tuple[D, int]], int]:
        """One page of documents, each with its counted number, and the total that match."""
        rows, total = read_page(tx, statements, params, query)
        return [(load(document), int(counted)) for document, counted in rows], total

    def _changed_counts(self, tx: Transaction, account_id: str, before: Any, after: Any) -> None:
        """Keeps the counts of the rows a write changes (a connection's profile's), and has them read
        again when next asked for."""
        counter = self._counts_in
        if counter is None:
            return
        was = self._columns(before)[counter.column] if before is not None else None
        now = self._columns(after)[counter.column] if after is not None else None
        if was != now:
            if was is not None:
                counter.change(tx, account_id, was, -1)
            if now is not None:
                counter.change(tx, account_id, now, 1)
        for key in [key for key in tx.locked if key[0] == counter.table]:
            del tx.locked[key]


def load(stored: str) -> Any:
    """A stored document, as the JSON object it was."""
    return orjson.loads(stored)


def escape_like(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def contains_pattern(text: str) -> str:
    """A LIKE pattern for a case-folded column that contains `text`, whatever its case."""
    return "%" + escape_like(text.casefold()) + "%"


def contains(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """The condition that `column` matches the `pattern` parameter (see contains_pattern)."""
    return column.like(bindparam("pattern"), escape=LIKE_ESCAPE)


def folded_order(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    # Case-folded names sort by code point on every backend, whatever the PostgreSQL database's
    # locale: the same request pages the same way on SQLite.
    return column.collate("C") if dialect == "postgresql" else column


def page_statements(
    table: Table, condition: ColumnElement[bool], sort_column: ColumnElement[Any], descending: bool,
    counted: ColumnElement[Any] | None = None,
) -> tuple[Statement, Statement]:
    """The count and page queries of one shape of list request, over `table`'s documents, each with
    its `counted` number (0 without one)."""
    # Ties are broken by id, in the same direction, so that pages never overlap or skip.
    key = table.c.id
    order = (sort_column.desc(), key.desc()) if descending else (sort_column.asc(), key.asc())
    count = select(func.count()).select_from(table).where(condition)
    page = (
        select(table.c.document, counted if counted is not None else literal_column("0")).where(condition)
        .order_by(*order)
        .limit(bindparam("limit", literal_execute=False)).offset(bindparam("offset", literal_execute=False))
    )
    return Statement(count), Statement(page)


def read_page(
    tx: Transaction, statements: tuple[Statement, Statement], params: dict[str, Any], query: ListQuery
) -> tuple[list[tuple[str, int]], int]:
    """The stored documents of one page with their counted numbers, and the total that match."""
    count, page = statements
    total = int(tx.scalar(count, params))
    if query.offset >= total:
        return [], total
    rows = tx.rows(page, {**params, "limit": query.page_size, "offset": query.offset})
    return [(row[0], row[1]) for row in rows], total
