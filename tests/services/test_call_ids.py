"""A call authorization whose id another server made too is stored under a new id, not refused."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from ovp.domain.call_policy import Rejected
from ovp.domain.ids import IdGenerator
from ovp.services import calls as service
from ovp.services import profiles as profile_service
from ovp.store import calls as call_store
from ovp.store import rates as rate_store
from ovp.store.database import Database
from ovp.store.documents import DuplicateId
from ovp.store.engine import make_engine
from ovp.store.migrate import upgrade


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


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    opened = Database(make_engine(database_url))
    upgrade(opened)
    yield opened
    opened.dispose()


def test_a_taken_id_is_drawn_again(database: Database) -> None:
    ask = service.parse_authorize({"to": "+14155552671", "from": "x", "outbound_voice_profile_id": "0"})
    with database.transaction(write=True) as tx:
        rate_store.replace_deck(tx, "acme", {"1": Decimal("0.01")})
        profile_id = profile_service.create(tx, "acme", {"name": "office"}, IdGenerator()).value["id"]
        ask = ask.model_copy(update={"outbound_voice_profile_id": profile_id})
        first = service.authorize(tx, "acme", ask, ScriptedIds(4242), service.CallSettings(), datetime.now(UTC))
        ids = ScriptedIds(4242)
        second = service.authorize(tx, "acme", ask, ids, service.CallSettings(), datetime.now(UTC))
        stored = call_store.get(tx, "acme", 4242)
    assert first.decision.id == 4242  # type: ignore[union-attr]
    assert second.decision.id != 4242  # type: ignore[union-attr]
    assert ids.reseeded == 1
    assert stored is not None
    assert stored.id == 4242


def test_the_store_refuses_a_taken_id_without_changing_anything(database: Database) -> None:
    ask = service.parse_authorize({"to": "+14155552671", "from": "x", "outbound_voice_profile_id": "0"})
    with database.transaction(write=True) as tx:
        rate_store.replace_deck(tx, "acme", {"1": Decimal("0.01")})
        profile_id = profile_service.create(tx, "acme", {"name": "office"}, IdGenerator()).value["id"]
        ask = ask.model_copy(update={"outbound_voice_profile_id": profile_id})
        taken = service.authorize(tx, "acme", ask, ScriptedIds(77), service.CallSettings(), datetime.now(UTC))
        assert not isinstance(taken.decision, Rejected)
        with pytest.raises(DuplicateId):
            call_store.insert(tx, "other", taken.decision)
        assert call_store.get(tx, "other", 77) is None
