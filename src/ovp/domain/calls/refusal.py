"""A refused call, on record as an allowed one is: why it was refused, in Telnyx's words."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Refusal:
    id: int
    profile_id: int | None  # the profile the call was asked for by, or its connection's
    connection_id: int | None
    billing_group_id: str | None  # a UUID  # the profile's, when the call was refused
    dialled: str  # as the connection's outbound settings read it: E.164 when it is a valid number
    caller: str  # the caller id, after any override
    country: str | None  # the destination's, when it is a valid number
    sip_status: int
    code: str
    reason: str
    decided_ms: int
