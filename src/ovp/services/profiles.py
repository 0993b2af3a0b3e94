"""The five profile operations. Each runs inside the transaction its caller opened, and answers the
profile as the API shows it, with the number of the account's connections that use it."""

from __future__ import annotations

from typing import Any

from ovp.domain import profile as rules
from ovp.domain.clock import now_timestamp
from ovp.domain.errors import ResourceInUse
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import ListQuery, PageMeta
from ovp.domain.profile import ProfileDocument
from ovp.services.creating import with_new_id
from ovp.store import connections as connection_store
from ovp.store import profiles as store
from ovp.store.database import Transaction


def _shown(profile: Revised[ProfileDocument], connections_count: int) -> Revised[dict[str, Any]]:
    return Revised(rules.wire_view(profile.value, connections_count), profile.revision)


def _connections_count(tx: Transaction, account_id: str, profile_id: int) -> int:
    return connection_store.count_by_profile(tx, account_id, [profile_id]).get(profile_id, 0)


def create(tx: Transaction, account_id: str, body: object, ids: IdGenerator) -> Revised[dict[str, Any]]:
    changes = rules.parse_changes(body)
    now = now_timestamp()

    def insert(profile_id: int) -> Revised[ProfileDocument]:
        return store.insert(tx, account_id, rules.apply_changes(rules.new_profile(profile_id, now), changes, now))

    return _shown(with_new_id(ids, insert), connections_count=0)  # no connection can name a new id yet


def retrieve(tx: Transaction, account_id: str, profile_id: int) -> Revised[dict[str, Any]]:
    profile, connections_count = store.get_counted(tx, account_id, profile_id)
    return _shown(profile, connections_count)


def update(
    tx: Transaction, account_id: str, profile_id: int, body: object, if_match: str | None = None
) -> Revised[dict[str, Any]]:
    current, connections_count = store.get_counted(tx, account_id, profile_id, for_update=True)
    check_if_match(if_match, current)
    changes = rules.parse_changes(body)
    profile = store.replace(tx, account_id, current, rules.apply_changes(current.value, changes, now_timestamp()))
    return _shown(profile, connections_count)


def delete(tx: Transaction, account_id: str, profile_id: int, if_match: str | None = None) -> Revised[dict[str, Any]]:
    """Answers the profile as it was; refused while connections use it.

    The profile is read FOR UPDATE before its connections are counted: a connection that names it
    holds a share lock on it (see ovp.store.profiles.lock_for_reference), so either that
    connection committed first and is counted, or it waits and then finds the profile gone."""
    current = store.get(tx, account_id, profile_id, for_update=True)
    check_if_match(if_match, current)
    in_use = _connections_count(tx, account_id, profile_id)
    if in_use:
        raise ResourceInUse(
            f"The outbound voice profile is used by {in_use} connection{'s' if in_use > 1 else ''}; "
            "set their outbound.outbound_voice_profile_id to null, or delete them, first."
        )
    store.delete(tx, account_id, current)
    return _shown(current, connections_count=0)


def list_page(tx: Transaction, account_id: str, query: ListQuery) -> tuple[list[dict[str, Any]], PageMeta]:
    page, total = store.list_page(tx, account_id, query)
    counts = connection_store.count_by_profile(tx, account_id, [int(profile["id"]) for profile in page])
    views = [rules.wire_view(profile, counts.get(int(profile["id"]), 0)) for profile in page]
    return views, PageMeta.of(query, total)
