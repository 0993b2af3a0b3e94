"""How a call's record reads, allowed or refused: in the answer to the switch, in lists and exports."""

from __future__ import annotations

from typing import Any

import orjson

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.billing import money_text
from ovp.domain.calls.refusal import Refusal
from ovp.domain.clock import timestamp_of_ms

RECORD_TYPE = "call_authorization"


def _optional_id(value: int | None) -> str | None:
    return None if value is None else str(value)


def _optional_timestamp(milliseconds: int | None) -> str | None:
    return None if milliseconds is None else timestamp_of_ms(milliseconds)


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
        "cost": None if authorization.cost_micros is None else money_text(authorization.cost_micros),
    }


def record_view(record: Authorization | Refusal, now_ms: int) -> dict[str, Any]:
    return refused_view(record) if isinstance(record, Refusal) else allowed_view(record, now_ms)
