"""Queries on billing groups. Every one is scoped to an account."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import bindparam

from ovp.domain.billing_groups.billing_group import BillingGroupDocument
from ovp.domain.listing import ListQuery
from ovp.store import documents
from ovp.store.database import Statement, Transaction
from ovp.store.schema import billing_groups

_COLUMNS = billing_groups.c


def _columns(group: BillingGroupDocument) -> dict[str, Any]:
    return {"created_at": group["created_at"], "updated_at": group["updated_at"]}


# insert, get, replace, delete, delete_account and delete_everything, as for every table of documents.
table = documents.DocumentTable[BillingGroupDocument](billing_groups, _columns, key=str)


@cache
def _list_statements() -> tuple[Statement, Statement]:
    return table.page_statements(_COLUMNS.account_id == bindparam("owner"), _COLUMNS.created_at, descending=True)


def list_page(tx: Transaction, account_id: str, page: ListQuery) -> tuple[list[tuple[BillingGroupDocument, int]], int]:
    """One page of the account's groups, newest first, and how many there are."""
    return table.read_page(tx, _list_statements(), {"owner": account_id}, page)
