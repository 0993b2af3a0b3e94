"""A switch retrying against a full profile: each refusal is recorded, and on PostgreSQL no call
is recorded and deleted again for it once the server knows the profile is full."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.refusal import Refusal
from ovp.domain.ids import IdGenerator
from ovp.services import calls as service
from ovp.services import profiles as profile_service
from ovp.store import rates as rate_store
from ovp.store.database import Statement, Transaction
from tests.databases import BlockingDatabase

# What this server process did to the allowed calls' table and has not reported yet (PostgreSQL's
# own count, this transaction's included).
_CHURN = Statement(text("SELECT n_tup_ins, n_tup_del FROM pg_stat_xact_user_tables WHERE relname = "
                        "'call_authorizations'"))


def _ask(tx: Transaction, profile_id: str, full: service.FullProfiles | None) -> Authorization | Refusal:
    request = service.parse_authorize({"to": "+14155552671", "from": "+12025550100",
                                       "outbound_voice_profile_id": profile_id})
    return service.authorize(tx, "acme", request, IdGenerator(), service.CallSettings(), datetime.now(UTC),
                             full).decision


def _storm(database: BlockingDatabase, full: service.FullProfiles | None) -> dict[str, Any]:
    def work(tx: Transaction) -> dict[str, Any]:
        rate_store.replace_deck(tx, "acme", {"1": Decimal("0.01")})
        profile = profile_service.resource
        profile_id: str = profile.create(tx, "acme", profile.kind.parse_new(
            {"name": "full", "concurrent_call_limit": 1}), IdGenerator()).value["id"]
        held = _ask(tx, profile_id, full)
        assert isinstance(held, Authorization)
        counted = tx.dialect.name == "postgresql"
        before = tx.rows(_CHURN)[0] if counted else (0, 0)
        refused = [_ask(tx, profile_id, full) for _ in range(5)]
        after = tx.rows(_CHURN)[0] if counted else (0, 0)
        churn = (after[0] - before[0], after[1] - before[1]) if counted else None
        service.end(tx, "acme", held.id, 0, datetime.now(UTC))
        again = _ask(tx, profile_id, full)
        return {"held": held, "refused": refused, "churn": churn, "again": again}

    result: dict[str, Any] = database.write(work)
    return result


def test_refusals_are_decided_and_recorded_alike_with_the_hint_or_without(database: BlockingDatabase) -> None:
    for full in (service.FullProfiles(), None):
        result = _storm(database, full)
        assert isinstance(result["held"], Authorization)
        assert [refusal.code for refusal in result["refused"]] == ["D2"] * 5
        assert all(isinstance(refusal, Refusal) for refusal in result["refused"])
        assert isinstance(result["again"], Authorization)  # the slot freed, the next call is allowed
        if result["churn"] is not None:
            inserted, deleted = result["churn"]
            # With the hint, only the first refusal records a call and deletes it; without, each does.
            assert (inserted, deleted) == ((1, 1) if full is not None else (5, 5))
