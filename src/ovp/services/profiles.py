"""Outbound voice profiles, declared: each is answered with the number of the account's connections
that use it, and cannot be deleted while any does."""

from __future__ import annotations

from ovp.domain.errors import ResourceInUse
from ovp.domain.listing import ListQuery, parse_list_query
from ovp.domain.profiles import profile as rules
from ovp.domain.profiles.profile import ProfileDocument
from ovp.services.resources import Hooks, Resource
from ovp.store import connections as connection_store
from ovp.store import profiles as store
from ovp.store.database import Transaction


def refuse_while_in_use(tx: Transaction, account_id: str, profile: ProfileDocument) -> None:
    """The profile was read FOR UPDATE before its connections are counted: a connection that names
    it holds a lock on it (see ovp.store.profiles.lock_for_reference), so either that
    connection committed first and is counted, or it waits and then finds the profile gone."""
    profile_id = int(profile["id"])
    in_use = connection_store.count_by_profile(tx, account_id, [profile_id]).get(profile_id, 0)
    if in_use:
        raise ResourceInUse(
            f"The outbound voice profile is used by {in_use} connection{'s' if in_use > 1 else ''}; "
            "set their outbound.outbound_voice_profile_id to null, or delete them, first."
        )


resource = Resource[ProfileDocument, int, ListQuery](
    rules.KIND, store.table, parse_list_query, store.list_page, Hooks(before_delete=refuse_while_in_use),
)
