"""The five billing group operations. Each runs inside the transaction its caller opened, and answers
the group as the API shows it."""

from __future__ import annotations

from typing import Any

from ovp.domain import billing_group as rules
from ovp.domain.billing_group import BillingGroupDocument
from ovp.domain.clock import now_timestamp
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import ListQuery, PageMeta
from ovp.services.creating import with_new_uuid
from ovp.store import billing_groups as store
from ovp.store.database import Transaction


def _shown(group: Revised[BillingGroupDocument]) -> Revised[dict[str, Any]]:
    return Revised(dict(group.value), group.revision)


def create(tx: Transaction, account_id: str, body: object, _ids: IdGenerator) -> Revised[dict[str, Any]]:
    """A group under a new random UUID, as Telnyx's are (the numeric ids of `_ids` are not used)."""
    changes = rules.parse_changes(body)
    now = now_timestamp()

    def insert(group_id: str) -> Revised[BillingGroupDocument]:
        group = rules.apply_changes(rules.new_billing_group(group_id, account_id, now), changes, now)
        return store.table.insert(tx, account_id, group)

    return _shown(with_new_uuid(insert))


def retrieve(tx: Transaction, account_id: str, group_id: str) -> Revised[dict[str, Any]]:
    return _shown(store.table.get(tx, account_id, group_id))


def update(
    tx: Transaction, account_id: str, group_id: str, body: object, if_match: str | None = None
) -> Revised[dict[str, Any]]:
    current = store.table.get(tx, account_id, group_id, for_update=True)
    check_if_match(if_match, current)
    changes = rules.parse_changes(body)
    return _shown(store.table.replace(tx, account_id, current, rules.apply_changes(current.value, changes,
                                                                                   now_timestamp())))


def delete(tx: Transaction, account_id: str, group_id: str, if_match: str | None = None) -> Revised[dict[str, Any]]:
    """Answers the group as it was, with `deleted_at` set. Profiles that name it keep the id."""
    current = store.table.get(tx, account_id, group_id, for_update=True)
    check_if_match(if_match, current)
    store.table.delete(tx, account_id, current)
    return Revised({**current.value, "deleted_at": now_timestamp()}, current.revision)


def list_page(tx: Transaction, account_id: str, page: ListQuery) -> tuple[list[dict[str, Any]], PageMeta]:
    groups, total = store.list_page(tx, account_id, page)
    return [dict(group) for group in groups], PageMeta.of(page, total)
