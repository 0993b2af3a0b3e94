"""A call's ids in Telnyx's shape, tied to ovp's record of the call (allowed or refused), so that
each reads back to the record: `call_control_id` is "v3:" and the record's id, `call_leg_id` and
`call_session_id` are UUIDs that hold the id in their last 64 bits (the session's with a 1 before
it). The call webhooks carry them, and a sip-trunking detail record's `id` and
`telnyx_session_id` are the leg's and the session's."""

from __future__ import annotations

import uuid

from ovp.domain.ids import MAX_ID, parse_id, uuid_text

_SESSION = 1 << 64


_CALL_CONTROL = "v3:"


def call_control_id(call_id: int) -> str:
    return f"{_CALL_CONTROL}{call_id}"


def record_of_path(text: str) -> int | None:
    """The record a path names, by its id or by its call_control_id; None when none could be."""
    return parse_id(text.removeprefix(_CALL_CONTROL))


def call_leg_id(call_id: int) -> str:
    return uuid_text(call_id)


def call_session_id(call_id: int) -> str:
    return uuid_text(_SESSION | call_id)


def _record(value: int) -> int | None:
    return value if 0 < value <= MAX_ID else None


def record_of_leg(leg: uuid.UUID) -> int | None:
    """The id of the record whose call_leg_id `leg` is; None when no record's could be."""
    return _record(leg.int)


def record_of_session(session: uuid.UUID) -> int | None:
    """The id of the record whose call_session_id `session` is; None when no record's could be."""
    return _record(session.int - _SESSION)
