"""The five profile operations. Each runs inside the transaction its caller opened."""

from __future__ import annotations

from ovp.domain import profile as rules
from ovp.domain.clock import now_timestamp
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import ListQuery, PageMeta
from ovp.domain.profile import ProfileDocument
from ovp.store import profiles as store
from ovp.store.database import Transaction

ID_ATTEMPTS = 5


def create(tx: Transaction, account_id: str, body: object, ids: IdGenerator) -> Revised[ProfileDocument]:
    changes = rules.parse_changes(body)
    now = now_timestamp()
    for _attempt in range(ID_ATTEMPTS):
        profile = rules.apply_changes(rules.new_profile(ids.next_id(), now), changes, now)
        try:
            return store.insert(tx, account_id, profile)
        except store.DuplicateId:
            ids.reseed()
    raise RuntimeError("could not draw a free profile id")


def retrieve(tx: Transaction, account_id: str, profile_id: int) -> Revised[ProfileDocument]:
    return store.get(tx, account_id, profile_id)


def update(
    tx: Transaction, account_id: str, profile_id: int, body: object, if_match: str | None = None
) -> Revised[ProfileDocument]:
    current = store.get(tx, account_id, profile_id, for_update=True)
    check_if_match(if_match, current)
    changes = rules.parse_changes(body)
    profile = rules.apply_changes(current.value, changes, now_timestamp())
    return store.replace(tx, account_id, current, profile)


def delete(tx: Transaction, account_id: str, profile_id: int, if_match: str | None = None) -> Revised[ProfileDocument]:
    """Answers the profile as it was."""
    current = store.get(tx, account_id, profile_id, for_update=True)
    check_if_match(if_match, current)
    store.delete(tx, account_id, current)
    return current


def list_page(tx: Transaction, account_id: str, query: ListQuery) -> tuple[list[ProfileDocument], PageMeta]:
    page, total = store.list_page(tx, account_id, query)
    return page, PageMeta.of(query, total)
