"""What the tables of wire documents share: first revisions, id clashes, and list pages.

A resource is stored as its wire document (JSON text) beside the columns it is filtered and sorted
by. A list is a count and a page of one shape of query, read in one transaction so that they agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import orjson
from sqlalchemy import ColumnElement, Table, bindparam, func, literal_column, select

from ovp.domain.errors import NotFound
from ovp.domain.etags import Revised
from ovp.domain.listing import ListQuery
from ovp.store.database import Row, Statement, Transaction

FIRST_REVISION = 1
LIKE_ESCAPE = "/"
D = TypeVar("D", bound=Mapping[str, Any])


class DuplicateId(Exception):
    """Another process made the same id; the caller draws a new one and tries again."""


class DocumentTable(Generic[D]):
    """The account-scoped reads and writes of one table of documents. `columns` gives the values of
    the columns kept beside a document (those it is filtered and sorted by, and the document).
    `returned`: what an update also answers, read in the same statement (see `replace`)."""

    def __init__(
        self, table: Table, columns: Callable[[D], dict[str, Any]], *, returned: ColumnElement[Any] | None = None
    ) -> None:
        self._name = table.name
        self._columns = columns
        c = table.c
        owned = (c.account_id == bindparam("owner")) & (c.id == bindparam("row_id"))
        stored = [column.name for column in table.columns if column.name not in ("id", "account_id", "revision")]
        self._insert = Statement(table.insert())
        self._select = Statement(select(c.document, c.revision).where(owned))
        self._select_for_update = Statement(select(c.document, c.revision).where(owned).with_for_update())
        update = table.update().where(owned).values(
            revision=c.revision + literal_column("1"), **{name: bindparam(f"new_{name}") for name in stored}
        )
        self._update = Statement(update if returned is None else update.returning(returned))
        self._update_returns = returned is not None
        self._delete = Statement(table.delete().where(owned))
        self._delete_account = Statement(table.delete().where(c.account_id == bindparam("owner")))
        self._delete_everything = Statement(table.delete())

    def values(self, document: D) -> dict[str, Any]:
        return {**self._columns(document), "document": orjson.dumps(document).decode()}

    def insert(self, tx: Transaction, account_id: str, document: D) -> Revised[D]:
        values = {"id": int(document["id"]), "account_id": account_id, "revision": FIRST_REVISION,
                  **self.values(document)}
        if not tx.insert_unique(self._insert, values):
            raise DuplicateId(document["id"])
        return Revised(document, FIRST_REVISION)

    def get(self, tx: Transaction, account_id: str, row_id: int, *, for_update: bool = False) -> Revised[D]:
        """The account's row; `for_update` locks it until the transaction ends, and a row this
        transaction locked already is not read again."""
        if not for_update:
            return self._read(tx, self._select, account_id, row_id)
        key = (self._name, account_id, row_id)
        known = tx.locked.get(key)
        if known is not None:
            return Revised(load(known[0]), known[1])
        return self._read(tx, self._select_for_update, account_id, row_id, lock=key)

    def _read(self, tx: Transaction, statement: Statement, account_id: str, row_id: int,
              lock: tuple[str, str, int] | None = None) -> Revised[D]:
        found = tx.rows(statement, {"owner": account_id, "row_id": row_id})
        if not found:
            raise NotFound()
        document, revision = found[0]
        if lock is not None:
            tx.locked[lock] = (document, revision)
        return Revised(load(document), revision)

    def replace(self, tx: Transaction, account_id: str, current: Revised[D], document: D) -> Revised[D]:
        """Stores `document` over `current`, which the caller read with for_update=True."""
        return self.replace_returning(tx, account_id, current, document)[0]

    def replace_returning(
        self, tx: Transaction, account_id: str, current: Revised[D], document: D
    ) -> tuple[Revised[D], Row | None]:
        """As `replace`, with what the table's update returns (None unless it returns something)."""
        row_id = int(document["id"])
        values = self.values(document)
        params = {"owner": account_id, "row_id": row_id, **{f"new_{name}": value for name, value in values.items()}}
        revised = Revised(document, current.revision + 1)
        tx.locked[(self._name, account_id, row_id)] = (values["document"], revised.revision)
        if self._update_returns:
            return revised, tx.rows(self._update, params)[0]
        tx.execute(self._update, params)
        return revised, None

    def delete(self, tx: Transaction, account_id: str, current: Revised[D]) -> None:
        """Deletes `current`, which the caller read with for_update=True."""
        row_id = int(current.value["id"])
        tx.locked.pop((self._name, account_id, row_id), None)
        tx.execute(self._delete, {"owner": account_id, "row_id": row_id})

    def delete_account(self, tx: Transaction, account_id: str) -> int:
        """Deletes every row of the account; answers how many there were."""
        tx.locked.clear()
        return tx.execute(self._delete_account, {"owner": account_id})

    def delete_everything(self, tx: Transaction) -> int:
        tx.locked.clear()
        return tx.execute(self._delete_everything)


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
    table: Table, condition: ColumnElement[bool], sort_column: ColumnElement[Any], descending: bool
) -> tuple[Statement, Statement]:
    """The count and page queries of one shape of list request, over `table`'s documents."""
    # Ties are broken by id, in the same direction, so that pages never overlap or skip.
    key = table.c.id
    order = (sort_column.desc(), key.desc()) if descending else (sort_column.asc(), key.asc())
    count = select(func.count()).select_from(table).where(condition)
    page = (
        select(table.c.document).where(condition).order_by(*order)
        .limit(bindparam("limit", literal_execute=False)).offset(bindparam("offset", literal_execute=False))
    )
    return Statement(count), Statement(page)


def read_page(
    tx: Transaction, statements: tuple[Statement, Statement], params: dict[str, Any], query: ListQuery
) -> tuple[list[str], int]:
    """The stored documents of one page, and the total that match."""
    count, page = statements
    total = int(tx.scalar(count, params))
    if query.offset >= total:
        return [], total
    rows = tx.rows(page, {**params, "limit": query.page_size, "offset": query.offset})
    return [row[0] for row in rows], total
