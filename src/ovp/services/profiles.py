"""The five profile operations. Each runs inside the transaction its caller opened."""

from __future__ import annotations

from ovp.domain import profile as rules
from ovp.domain.clock import now_timestamp
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import ListQuery, PageMeta
from ovp.domain.profile import ProfileDocument
from ovp.store import profiles as store
from ovp.store.database import Transaction

ID_ATTEMPTS = 5


def create(tx: Transaction, account_id: str, body: object, ids: IdGenerator) -> ProfileDocument:
    changes = rules.parse_changes(body)
    now = now_timestamp()
    for _attempt in range(ID_ATTEMPTS):
        profile = rules.apply_changes(rules.new_profile(ids.next_id(), now), changes, now)
        try:
            store.insert(tx, account_id, profile)
        except store.DuplicateId:
            ids.reseed()
            continue
        return profile
    raise RuntimeError("could not draw a free profile id")


def retrieve(tx: Transaction, account_id: str, profile_id: int) -> ProfileDocument:
    return store.get(tx, account_id, profile_id)


def update(tx: Transaction, account_id: str, profile_id: int, body: object) -> ProfileDocument:
    current = store.get(tx, account_id, profile_id, for_update=True)
    changes = rules.parse_changes(body)
    profile = rules.apply_changes(current, changes, now_timestamp())
    store.replace(tx, account_id, profile)
    return profile


def delete(tx: Transaction, account_id: str, profile_id: int) -> ProfileDocument:
    return store.delete(tx, account_id, profile_id)


def list_page(tx: Transaction, account_id: str, query: ListQuery) -> tuple[list[ProfileDocument], PageMeta]:
    page, total = store.list_page(tx, account_id, query)
    return page, PageMeta.of(query, total)
