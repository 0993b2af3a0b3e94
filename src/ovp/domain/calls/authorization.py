"""A call authorization: what ovp allowed, and, once the call ends, what it cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["active", "ended", "expired"]


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
    expires_ms: int
    ended_ms: int | None = None
    duration_secs: int | None = None
    billed_secs: int | None = None
    cost_micros: int | None = None

    def status(self, now_ms: int) -> Status:
        """An authorization never ended stops holding its slot once it expires."""
        if self.ended_ms is not None:
            return "ended"
        return "active" if now_ms < self.expires_ms else "expired"
