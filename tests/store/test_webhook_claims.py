"""The sender's claim of due events, on each backend: whole calls' events in order, however their
rows lie in the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ovp.store import webhooks
from ovp.store.database import Statement, Transaction
from ovp.store.schema import webhook_events
from tests.databases import (
    BlockingDatabase,
    backends,
    migrated_database,
    postgres_admin_url,
    scratch_postgres_database,
)

CALLS = 4
DUE_MS = 1_000  # every event due at one moment, as a receiver's are when it answers again
_NEXT_ATTEMPTS = Statement(select(webhook_events.c.call_id, webhook_events.c.seq, webhook_events.c.next_attempt_ms))


@pytest.fixture(params=backends())
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlockingDatabase]:
    """A database of the test's own: the events are due by any sender's clock, and a sender of
    another test's server on a shared database would claim them."""
    if request.param == "sqlite":
        with migrated_database(f"sqlite:///{tmp_path / 'ovp.db'}") as opened:
            yield opened
        return
    admin_url = postgres_admin_url()
    assert admin_url is not None
    with scratch_postgres_database(admin_url) as url, migrated_database(url) as opened:
        yield opened


def _write_hangups_first(tx: Transaction) -> None:
    """Each call's three events, their rows written last event first across the calls (the hangups,
    then the answers, then the first events), all due at DUE_MS."""
    for seq in (3, 2, 1):
        for call_id in range(1, CALLS + 1):
            event = f"{call_id}-{seq}"
            tx.execute(webhooks._INSERT, {
                "id": event, "event_id": event, "account_id": "account", "call_id": call_id, "seq": seq,
                "connection_id": 1, "event_type": "call.hangup", "payload": "{}", "created_ms": DUE_MS})


def test_a_claim_takes_whole_calls_in_order_among_events_due_at_one_moment(database: BlockingDatabase) -> None:
    database.write(_write_hangups_first)
    chains = database.write(lambda tx: webhooks.claim(tx, DUE_MS + 10, 60_000, limit=6))
    assert [[(event.call_id, event.seq) for event in chain] for chain in chains] == [
        [(1, 1), (1, 2), (1, 3)], [(2, 1), (2, 2), (2, 3)]]
    # No event of the calls not claimed was put off: they go with the next claim, not a second later.
    waiting = {(call_id, seq): next_ms for call_id, seq, next_ms in database.read(lambda tx: tx.rows(_NEXT_ATTEMPTS))
               if call_id > 2}
    assert waiting == {(call_id, seq): DUE_MS for call_id in (3, 4) for seq in (1, 2, 3)}
    later = database.write(lambda tx: webhooks.claim(tx, DUE_MS + 20, 60_000, limit=6))
    assert [[(event.call_id, event.seq) for event in chain] for chain in later] == [
        [(3, 1), (3, 2), (3, 3)], [(4, 1), (4, 2), (4, 3)]]
