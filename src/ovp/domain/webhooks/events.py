"""The call events ovp sends to a connection's webhook URL, in Telnyx's shape (the official SDKs'
call_initiated, call_answered, call_hangup and call_cost webhook event types).

Each event is tied to ovp's record of the call by its ids (ovp.domain.calls.call_ids), and
`connection_id` is the connection the call came through."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntFlag
from typing import Any

import orjson

from ovp.domain.calls import hangups
from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.billing import money_text
from ovp.domain.calls.call_ids import call_control_id, call_leg_id, call_session_id
from ovp.domain.calls.hangups import Ending, Hangup
from ovp.domain.calls.refusal import Refusal
from ovp.domain.clock import timestamp_of_ms, wall_ms
from ovp.domain.ids import random_uuid, time_ordered_uuid


class Webhooks(IntFlag):
    """What a call's connection asked for when the call was allowed, kept on the call's record."""

    NONE = 0
    EVENTS = 1  # the connection has a webhook_event_url
    COSTS = 2  # and call_cost_in_webhooks
    HANGUP_SENT = 4  # the call's call.hangup went out at its expiry: its end sends none


def wanted(webhook_event_url: str | None, call_cost_in_webhooks: bool) -> Webhooks:
    if not webhook_event_url:
        return Webhooks.NONE
    return Webhooks.EVENTS | (Webhooks.COSTS if call_cost_in_webhooks else Webhooks.NONE)


# A call's events go out in this order (a refusal has only its call.hangup).
INITIATED, ANSWERED, HANGUP, COST = "call.initiated", "call.answered", "call.hangup", "call.cost"
SEQUENCE = {INITIATED: 1, ANSWERED: 2, HANGUP: 3, COST: 4}
EVENT_TYPES = tuple(SEQUENCE)


@dataclass(frozen=True)
class Event:
    delivery_id: str
    event_id: str
    call_id: int
    seq: int
    connection_id: int
    event_type: str
    body: str  # {"data": {...}}, exactly as signed and sent on every attempt


def _event(call_id: int, connection_id: int, event_type: str, occurred_ms: int,
           payload: dict[str, Any]) -> Event:
    event_id = random_uuid()
    data = {"data": {"record_type": "event", "id": event_id, "event_type": event_type,
                     "occurred_at": timestamp_of_ms(occurred_ms), "payload": payload}}
    # The delivery's id keys the table of events, written with every decision: time-ordered, so
    # that each goes in at the end of its index.
    return Event(time_ordered_uuid(wall_ms()), event_id, call_id, SEQUENCE[event_type], connection_id, event_type,
                 orjson.dumps(data).decode())


def _call_ids(call_id: int, connection_id: int) -> dict[str, Any]:
    return {"call_control_id": call_control_id(call_id), "call_leg_id": call_leg_id(call_id),
            "call_session_id": call_session_id(call_id), "connection_id": str(connection_id),
            "client_state": None}


def _numbers(call_id: int, connection_id: int, caller: str, dialled: str) -> dict[str, Any]:
    return {**_call_ids(call_id, connection_id), "from": caller, "to": dialled, "direction": "outgoing",
            "tags": []}


def initiated(call: Authorization) -> Event:
    assert call.connection_id is not None, "only a call through a connection has webhooks"
    return _event(call.id, call.connection_id, INITIATED, call.authorized_ms, {
        **_numbers(call.id, call.connection_id, call.caller, call.dialled), "state": "bridging",
        "start_time": timestamp_of_ms(call.authorized_ms)})


def answered(call: Authorization) -> Event:
    assert call.connection_id is not None
    assert call.answered_ms is not None
    return _event(call.id, call.connection_id, ANSWERED, call.answered_ms, {
        **_numbers(call.id, call.connection_id, call.caller, call.dialled), "state": "answered",
        "start_time": timestamp_of_ms(call.authorized_ms)})


def _hangup(call_id: int, connection_id: int, caller: str, dialled: str, started_ms: int, ended_ms: int,
            hangup: Hangup) -> Event:
    return _event(call_id, connection_id, HANGUP, ended_ms, {
        **_numbers(call_id, connection_id, caller, dialled), "state": "hangup", "hangup_cause": hangup.cause,
        "hangup_source": hangup.source, "sip_hangup_cause": hangup.sip_status,
        "start_time": timestamp_of_ms(started_ms), "end_time": timestamp_of_ms(ended_ms)})


def _call_hangup(call: Authorization, how: Ending, at_ms: int) -> Event:
    assert call.connection_id is not None, "only a call through a connection has webhooks"
    return _hangup(call.id, call.connection_id, call.caller, call.dialled, call.authorized_ms, at_ms,
                   hangups.of_call(call, how))


def ended(call: Authorization) -> Event:
    """The call.hangup of a call the switch ended: cleared once answered, cancelled while ringing."""
    assert call.ended_ms is not None
    return _call_hangup(call, "ended", call.ended_ms)


def expired(call: Authorization) -> Event:
    """The call.hangup of a call that was never ended: its set-up timed out, or it reached its
    maximum duration."""
    return _call_hangup(call, "expired", call.expires_ms)


def rejected(refusal: Refusal) -> Event:
    """The call.hangup of a refused call: call_rejected, with the refusal's SIP status."""
    assert refusal.connection_id is not None
    return _hangup(refusal.id, refusal.connection_id, refusal.caller, refusal.dialled, refusal.decided_ms,
                   refusal.decided_ms, hangups.of_refusal(refusal))


def cost(call: Authorization) -> Event:
    """The call.cost of an ended call: what it was billed, at the rate it was allowed at."""
    assert call.connection_id is not None
    assert call.ended_ms is not None
    total = money_text(call.cost_micros or 0)
    billed = call.billed_secs or 0
    return _event(call.id, call.connection_id, COST, call.ended_ms, {
        **_call_ids(call.id, call.connection_id), "billing_group_id": call.billing_group_id,
        "billed_duration_secs": billed, "total_cost": total, "status": "success",
        "occurred_at": timestamp_of_ms(call.ended_ms),
        "cost_parts": [{"call_part": "call-control", "billed_duration_secs": billed, "cost": total,
                        "currency": "USD", "rate": call.per_minute}]})


def of_end(call: Authorization) -> list[Event]:
    """What a call's end sends: its call.hangup (unless its expiry sent it), and its call.cost when
    the connection asked for costs."""
    flags = Webhooks(call.webhooks)
    if Webhooks.EVENTS not in flags:
        return []
    sent = [] if Webhooks.HANGUP_SENT in flags else [ended(call)]
    return sent + ([cost(call)] if Webhooks.COSTS in flags else [])
