"""Queries on outbound voice profiles. Every one is scoped to an account."""

from __future__ import annotations

from functools import cache
from typing import Any

import orjson
from sqlalchemy import ColumnElement, bindparam, func, literal_column, select

from ovp.domain.errors import NotFound
from ovp.domain.etags import Revised
from ovp.domain.listing import ListQuery
from ovp.domain.profile import ProfileDocument
from ovp.store.database import Statement, Transaction
from ovp.store.schema import profiles

_COLUMNS = profiles.c
_OWNED = (_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.id == bindparam("profile_id"))
_STORED = ("name", "name_folded", "enabled", "traffic_type", "service_plan", "usage_payment_method",
           "created_at", "updated_at", "document")

_INSERT = Statement(profiles.insert())
_SELECT = Statement(select(_COLUMNS.document, _COLUMNS.revision).where(_OWNED))
_SELECT_FOR_UPDATE = Statement(select(_COLUMNS.document, _COLUMNS.revision).where(_OWNED).with_for_update())
_UPDATE = Statement(
    profiles.update()
    .where(_OWNED)
    .values(revision=_COLUMNS.revision + literal_column("1"), **{name: bindparam(f"new_{name}") for name in _STORED})
)
_DELETE = Statement(profiles.delete().where(_OWNED))
_DELETE_ACCOUNT = Statement(profiles.delete().where(_COLUMNS.account_id == bindparam("owner")))
_DELETE_EVERYTHING = Statement(profiles.delete())
_OWNER = Statement(select(_COLUMNS.account_id).where(_COLUMNS.id == bindparam("profile_id")))
LIKE_ESCAPE = "/"
FIRST_REVISION = 1


def _stored_values(profile: ProfileDocument, prefix: str = "") -> dict[str, Any]:
    """The row's values, named as the statement's parameters are (the UPDATE's carry a prefix)."""
    return {
        prefix + "name": profile["name"],
        prefix + "name_folded": profile["name"].casefold(),
        prefix + "enabled": profile["enabled"],
        prefix + "traffic_type": profile["traffic_type"],
        prefix + "service_plan": profile["service_plan"],
        prefix + "usage_payment_method": profile["usage_payment_method"],
        prefix + "created_at": profile["created_at"],
        prefix + "updated_at": profile["updated_at"],
        prefix + "document": orjson.dumps(profile).decode(),
    }


def _document(stored: str) -> ProfileDocument:
    document: ProfileDocument = orjson.loads(stored)
    return document


class DuplicateId(Exception):
    """Another process made the same id; the caller draws a new one and tries again."""


def insert(tx: Transaction, account_id: str, profile: ProfileDocument) -> Revised[ProfileDocument]:
    values = {"id": int(profile["id"]), "account_id": account_id, "revision": FIRST_REVISION,
              **_stored_values(profile)}
    if not tx.insert_unique(_INSERT, values):
        raise DuplicateId(profile["id"])
    return Revised(profile, FIRST_REVISION)


def get(tx: Transaction, account_id: str, profile_id: int, *, for_update: bool = False) -> Revised[ProfileDocument]:
    found = tx.rows(_SELECT_FOR_UPDATE if for_update else _SELECT, {"owner": account_id, "profile_id": profile_id})
    if not found:
        raise NotFound()
    document, revision = found[0]
    return Revised(_document(document), revision)


def replace(tx: Transaction, account_id: str, current: Revised[ProfileDocument], profile: ProfileDocument
            ) -> Revised[ProfileDocument]:
    """Stores `profile` over `current`, which the caller read with for_update=True."""
    tx.execute(_UPDATE, {"owner": account_id, "profile_id": int(profile["id"]), **_stored_values(profile, "new_")})
    return Revised(profile, current.revision + 1)


def delete(tx: Transaction, account_id: str, current: Revised[ProfileDocument]) -> None:
    """Deletes `current`, which the caller read with for_update=True."""
    tx.execute(_DELETE, {"owner": account_id, "profile_id": int(current.value["id"])})


def delete_account(tx: Transaction, account_id: str) -> int:
    """Deletes every profile of the account; answers how many there were."""
    return tx.execute(_DELETE_ACCOUNT, {"owner": account_id})


def delete_everything(tx: Transaction) -> int:
    return tx.execute(_DELETE_EVERYTHING)


def owner_of(tx: Transaction, profile_id: int) -> str | None:
    """The account that holds this id, whichever it is: for seeding, where ids are given."""
    owner: str | None = tx.scalar(_OWNER, {"profile_id": profile_id})
    return owner


def escape_like(text: str) -> str:
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


@cache
def _list_statements(
    dialect: str, filtered: bool, sort_field: str, descending: bool
) -> tuple[Statement, Statement]:
    """The count and page queries for one shape of list request."""
    condition = _COLUMNS.account_id == bindparam("owner")
    if filtered:
        condition = condition & _COLUMNS.name_folded.like(bindparam("pattern"), escape=LIKE_ESCAPE)
    sort_column: ColumnElement[Any] = _COLUMNS[sort_field]
    if sort_field == "name":
        # Names sort by their case-folded code points on every backend, whatever the
        # PostgreSQL database's locale: the same request pages the same way on SQLite.
        sort_column = _COLUMNS.name_folded.collate("C") if dialect == "postgresql" else _COLUMNS.name_folded
    # Ties are broken by id, in the same direction, so that pages never overlap or skip.
    order = (sort_column.desc(), _COLUMNS.id.desc()) if descending else (sort_column.asc(), _COLUMNS.id.asc())
    count = select(func.count()).select_from(profiles).where(condition)
    page = (
        select(_COLUMNS.document).where(condition).order_by(*order)
        .limit(bindparam("limit", literal_execute=False)).offset(bindparam("offset", literal_execute=False))
    )
    return Statement(count), Statement(page)


def list_page(tx: Transaction, account_id: str, query: ListQuery) -> tuple[list[ProfileDocument], int]:
    """One page of profiles and the total that match, read in one transaction so they agree."""
    filtered = query.name_contains is not None
    count, page = _list_statements(tx.dialect.name, filtered, query.sort_field, query.descending)
    params: dict[str, Any] = {"owner": account_id}
    if query.name_contains is not None:
        params["pattern"] = "%" + escape_like(query.name_contains.casefold()) + "%"
    total = int(tx.scalar(count, params))
    if query.offset >= total:
        return [], total
    rows = tx.rows(page, {**params, "limit": query.page_size, "offset": query.offset})
    return [_document(row[0]) for row in rows], total
