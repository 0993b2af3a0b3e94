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
from ovp.store.database import Statement, Transaction

FIRST_REVISION = 1
LIKE_ESCAPE = "/"
D = TypeVar("D", bound=Mapping[str, Any])


class DuplicateId(Exception):
    """Another process made the same id; the caller draws a new one and tries again."""


class DocumentTable(Generic[D]):
    """The account-scoped reads and writes of one table of documents. `columns` gives the values of
    the columns kept beside a document (those it is filtered and sorted by, and the document)."""

    def __init__(self, table: Table, columns: Callable[[D], dict[str, Any]]) -> None:
        self._columns = columns
        c = table.c
        owned = (c.account_id == bindparam("owner")) & (c.id == bindparam("row_id"))
        stored = [column.name for column in table.columns if column.name not in ("id", "account_id", "revision")]
        self._insert = Statement(table.insert())
        self._select = Statement(select(c.document, c.revision).where(owned))
        self._select_for_update = Statement(select(c.document, c.revision).where(owned).with_for_update())
        self._update = Statement(table.update().where(owned).values(
            revision=c.revision + literal_column("1"), **{name: bindparam(f"new_{name}") for name in stored}
        ))
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
        statement = self._select_for_update if for_update else self._select
        found = tx.rows(statement, {"owner": account_id, "row_id": row_id})
        if not found:
            raise NotFound()
        document, revision = found[0]
        return Revised(load(document), revision)

    def replace(self, tx: Transaction, account_id: str, current: Revised[D], document: D) -> Revised[D]:
        """Stores `document` over `current`, which the caller read with for_update=True."""
        new_values = {f"new_{name}": value for name, value in self.values(document).items()}
        tx.execute(self._update, {"owner": account_id, "row_id": int(document["id"]), **new_values})
        return Revised(document, current.revision + 1)

    def delete(self, tx: Transaction, account_id: str, current: Revised[D]) -> None:
        """Deletes `current`, which the caller read with for_update=True."""
        tx.execute(self._delete, {"owner": account_id, "row_id": int(current.value["id"])})

    def delete_account(self, tx: Transaction, account_id: str) -> int:
        """Deletes every row of the account; answers how many there were."""
        return tx.execute(self._delete_account, {"owner": account_id})

    def delete_everything(self, tx: Transaction) -> int:
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
