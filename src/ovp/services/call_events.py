"""The webhook events of a call's decisions, written in the transaction of each (see
ovp.store.webhooks): none for a call whose connection has no webhook_event_url."""

from __future__ import annotations

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.refusal import Refusal
from ovp.domain.webhooks import events
from ovp.domain.webhooks.events import Webhooks
from ovp.store import webhooks as store
from ovp.store.database import Transaction


def _sends(call: Authorization) -> bool:
    return Webhooks.EVENTS in Webhooks(call.webhooks)


def allowed(tx: Transaction, account_id: str, call: Authorization) -> None:
    if _sends(call):
        store.record(tx, account_id, events.initiated(call))


def refused(tx: Transaction, account_id: str, refusal: Refusal, webhooks: Webhooks) -> None:
    if Webhooks.EVENTS in webhooks and refusal.connection_id is not None:
        store.record(tx, account_id, events.rejected(refusal))


def answered(tx: Transaction, account_id: str, call: Authorization) -> None:
    if _sends(call):
        store.record(tx, account_id, events.answered(call))


def ended(tx: Transaction, account_id: str, call: Authorization) -> None:
    for event in events.of_end(call):
        store.record(tx, account_id, event)


# How far back the sweep looks for calls that expired: a server down longer than this sends no
# call.hangup for the calls that expired meanwhile.
EXPIRY_LOOKBACK_MS = 24 * 3600 * 1000


def any_expired(tx: Transaction, now_ms: int, lookback_ms: int = EXPIRY_LOOKBACK_MS) -> bool:
    """Whether a call with webhooks expired unended in the last `lookback_ms` waits for its hangup."""
    return store.any_expired(tx, now_ms, now_ms - lookback_ms)


def expired(tx: Transaction, now_ms: int, lookback_ms: int = EXPIRY_LOOKBACK_MS) -> int:
    """Writes the call.hangup of every call with webhooks that expired unended in the last
    `lookback_ms`; answers how many."""
    rows = store.expire(tx, now_ms, now_ms - lookback_ms)
    for account_id, *fields in rows:
        store.record(tx, account_id, events.expired(Authorization(*fields)))
    return len(rows)
