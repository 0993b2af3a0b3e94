"""A call authorization whose id another server made too is stored under a new id, not refused."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ovp.domain.calls.authorization import Authorization
from ovp.domain.ids import IdGenerator
from ovp.services import calls as service
from ovp.services import profiles as profile_service
from ovp.store import calls as call_store
from ovp.store import rates as rate_store
from ovp.store.database import Transaction
from ovp.store.documents import DuplicateId
from tests.databases import BlockingDatabase


class ScriptedIds(IdGenerator):
    """Hands out the given ids first, as a server whose node number clashed would."""

    def __init__(self, *ids: int) -> None:
        super().__init__()
        self._script = list(ids)
        self.reseeded = 0

    def next_id(self) -> int:
        return self._script.pop(0) if self._script else super().next_id()

    def reseed(self) -> None:
        self.reseeded += 1
        super().reseed()


def _prepare(tx: Transaction) -> str:
    """The account's deck and a profile to call through; answers the profile's id."""
    rate_store.replace_deck(tx, "acme", {"1": Decimal("0.01")})
    profile = profile_service.resource
    profile_id: str = profile.create(tx, "acme", profile.kind.parse_new({"name": "office"}), IdGenerator()).value["id"]
    return profile_id


def _ask(tx: Transaction, profile_id: str, ids: IdGenerator) -> service.Outcome:
    request = service.parse_authorize({"to": "+14155552671", "from": "+12025550100",
                                       "outbound_voice_profile_id": profile_id})
    return service.authorize(tx, "acme", request, ids, service.CallSettings(), datetime.now(UTC))


def test_a_taken_id_is_drawn_again(database: BlockingDatabase) -> None:
    ids = ScriptedIds(4242)

    def ask_twice(tx: Transaction) -> tuple[service.Outcome, service.Outcome, Authorization | None]:
        profile_id = _prepare(tx)
        first = _ask(tx, profile_id, ScriptedIds(4242))
        return first, _ask(tx, profile_id, ids), call_store.get(tx, "acme", 4242)

    first, second, stored = database.write(ask_twice)
    assert first.decision.id == 4242
    assert second.decision.id != 4242
    assert ids.reseeded == 1
    assert stored is not None
    assert stored.id == 4242


def test_the_store_refuses_an_id_the_account_holds_without_changing_anything(database: BlockingDatabase) -> None:
    def insert_twice(tx: Transaction) -> Authorization | None:
        taken = _ask(tx, _prepare(tx), ScriptedIds(77))
        assert isinstance(taken.decision, Authorization)
        with pytest.raises(DuplicateId):
            call_store.insert(tx, "acme", taken.decision)
        call_store.insert(tx, "other", taken.decision)  # ids are unique within an account only
        return call_store.get(tx, "other", 77)

    assert database.write(insert_twice) is not None
