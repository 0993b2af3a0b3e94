"""A call authorization: what ovp allowed, when the call was answered, and, once it ends, what it cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ringing", "active", "ended", "expired"]


@dataclass(frozen=True)
class Authorization:
    id: int
    profile_id: int
    connection_id: int | None
    dialled: str
    caller: str
    country: str
    prefix: str
    per_minute: str  # USD, as the deck gave it
    billing_increment: str  # as in force when the call was allowed, which is what it is billed by
    reserved_micros: int
    recording: str  # JSON of the recording instruction
    authorized_ms: int
    # Until when the call holds its slot: while ringing, the set-up timeout after it was allowed;
    # once answered, max_duration_secs after the answer.
    expires_ms: int
    max_duration_secs: int  # how long the call may last once answered
    answered_ms: int | None = None
    ended_ms: int | None = None
    duration_secs: int | None = None
    billed_secs: int | None = None
    cost_micros: int | None = None
    billing_group_id: str | None = None  # a UUID  # the profile's, when the call was allowed
    webhooks: int = 0  # ovp.domain.webhooks.events.Webhooks: what the call's connection asked for

    def status(self, now_ms: int) -> Status:
        """Ringing until answered, then active; a call never ended stops holding its slot once it
        expires (its set-up timed out, or it reached its maximum duration)."""
        if self.ended_ms is not None:
            return "ended"
        if now_ms >= self.expires_ms:
            return "expired"
        return "ringing" if self.answered_ms is None else "active"
