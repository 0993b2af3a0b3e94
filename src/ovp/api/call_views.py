"""How a call's record reads, allowed or refused: in the answer to the switch, in lists and exports,
and as Telnyx's sip-trunking detail record."""

from __future__ import annotations

from typing import Any

import orjson

from ovp.domain.calls import hangups
from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.billing import money_text
from ovp.domain.calls.call_ids import call_leg_id, call_session_id
from ovp.domain.calls.decisions import moment_of
from ovp.domain.calls.refusal import Refusal
from ovp.domain.clock import timestamp_of_ms

RECORD_TYPE = "call_authorization"
DETAIL_RECORD_TYPE = "sip-trunking"


def _optional_id(value: int | None) -> str | None:
    return None if value is None else str(value)


def _optional_timestamp(milliseconds: int | None) -> str | None:
    return None if milliseconds is None else timestamp_of_ms(milliseconds)


def _optional_money(micros: int | None) -> str | None:
    return None if micros is None else money_text(micros)


def refused_view(refusal: Refusal) -> dict[str, Any]:
    return {
        "record_type": RECORD_TYPE,
        "id": str(refusal.id),
        "decision": "rejected",
        "status": None,  # a refused call never rang
        "sip_code": refusal.sip_status,
        "code": refusal.code,
        "reason": refusal.reason,
        "outbound_voice_profile_id": _optional_id(refusal.profile_id),
        "connection_id": _optional_id(refusal.connection_id),
        "billing_group_id": refusal.billing_group_id,
        "to": refusal.dialled,
        "from": refusal.caller,
        "country_code": refusal.country,
        "authorized_at": timestamp_of_ms(refusal.decided_ms),  # when it was decided
    }


def allowed_view(authorization: Authorization, now_ms: int) -> dict[str, Any]:
    return {
        "record_type": RECORD_TYPE,
        "id": str(authorization.id),
        "decision": "allowed",
        "status": authorization.status(now_ms),
        "outbound_voice_profile_id": str(authorization.profile_id),
        "connection_id": _optional_id(authorization.connection_id),
        "billing_group_id": authorization.billing_group_id,
        "to": authorization.dialled,
        "from": authorization.caller,
        "country_code": authorization.country,
        "prefix": authorization.prefix,
        "rate": authorization.per_minute,
        "currency": "USD",
        "billing_increment": authorization.billing_increment,
        "recording": orjson.Fragment(authorization.recording),
        "authorized_at": timestamp_of_ms(authorization.authorized_ms),
        "answered_at": _optional_timestamp(authorization.answered_ms),
        # Until when the call holds its slot: the set-up timeout while it rings, then its maximum
        # duration after the answer.
        "expires_at": timestamp_of_ms(authorization.expires_ms),
        # What a switch sets its call timer to, from the answer.
        "max_duration_secs": authorization.max_duration_secs,
        "ended_at": _optional_timestamp(authorization.ended_ms),
        "duration_secs": authorization.duration_secs,
        "billed_secs": authorization.billed_secs,
        "cost": _optional_money(authorization.cost_micros),
    }


def record_view(record: Authorization | Refusal, now_ms: int) -> dict[str, Any]:
    return refused_view(record) if isinstance(record, Refusal) else allowed_view(record, now_ms)


def _usage(record: Authorization | Refusal) -> tuple[int | None, int | None, str | None, str | None]:
    """call_sec, billed_sec, rate and cost: a refused call never rang, and cost nothing; a call
    that expired unended has lasted and cost what ovp does not know until it is ended."""
    if isinstance(record, Refusal):
        return 0, 0, None, money_text(0)
    return record.duration_secs, record.billed_secs, record.per_minute, _optional_money(record.cost_micros)


def detail_record_view(record: Authorization | Refusal) -> dict[str, Any]:
    """A finished call or a refusal as Telnyx's sip-trunking detail record, with what ovp knows of
    it; a field ovp does not know is null."""
    refusal = record if isinstance(record, Refusal) else None
    hangup = hangups.of_finished_call(record) if isinstance(record, Authorization) else hangups.of_refusal(record)
    call_sec, billed_sec, rate, cost = _usage(record)
    return {
        "record_type": DETAIL_RECORD_TYPE,
        "id": call_leg_id(record.id),
        "telnyx_session_id": call_session_id(record.id),
        "direction": "outbound",
        "cli": record.caller,
        "cld": record.dialled,
        "country_code": record.country,
        "connection_id": _optional_id(record.connection_id),
        "outbound_profile_id": _optional_id(record.profile_id),
        "billing_group_id": record.billing_group_id,
        "started_at": _optional_timestamp(moment_of(record, "started")),
        "answered_at": _optional_timestamp(moment_of(record, "answered")),
        "finished_at": _optional_timestamp(moment_of(record, "finished")),
        "call_sec": call_sec,
        "billed_sec": billed_sec,
        "rate": rate,
        "cost": cost,
        "currency": "USD",
        # As Telnyx's records spell their causes: NORMAL_CLEARING, ORIGINATOR_CANCEL, CALL_REJECTED.
        "hangup_cause": hangup.cause.upper(),
        "sip_invite_failure_status": None if hangup.answered else hangup.sip_status,
        "telnyx_error_code": None if refusal is None else refusal.code,
        "telnyx_error_message": None if refusal is None else refusal.reason,
    }
