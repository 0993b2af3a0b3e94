"""Moving ovp's clock from a test: freeze it at a moment, or move it on (see ovp.domain.clock)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from ovp.domain.clock import Clock, timestamp_of_ms
from ovp.domain.errors import InvalidInput, Problem
from ovp.domain.validation import BAD_VALUE, MISSING, OUT_OF_RANGE, parse_object

# A day's spend resets at midnight UTC and a call may last hours: a test moves days, not centuries.
MAX_ADVANCE_SECS = 366 * 24 * 3600


class ClockRequest(BaseModel):
    """POST /_ovp/admin/clock: exactly one of the two."""

    model_config = ConfigDict(extra="forbid", strict=True)

    now: Annotated[str | None, Field(max_length=40)] = None  # RFC 3339 with its offset: 2026-12-31T23:59:50Z
    advance_secs: Annotated[float | None, Field(ge=-MAX_ADVANCE_SECS, le=MAX_ADVANCE_SECS)] = None


@dataclass(frozen=True)
class ClockMove:
    frozen_at_ms: int | None  # None: moved on by advance_secs
    advance_secs: float = 0.0


def parse_clock(body: object) -> ClockMove:
    asked = parse_object(ClockRequest, body)
    if (asked.now is None) == (asked.advance_secs is None):
        code, title = MISSING
        raise InvalidInput([Problem(code, title, "Send exactly one of now and advance_secs.", pointer="/now")])
    if asked.now is None:
        assert asked.advance_secs is not None
        return ClockMove(None, asked.advance_secs)
    return ClockMove(_moment_ms(asked.now))


def _moment_ms(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, "now must be an RFC 3339 time, such as 2026-12-31T23:59:50Z.",
                                    pointer="/now")]) from None
    if moment.tzinfo is None:
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, "now must give its offset from UTC, such as Z or +01:00.",
                                    pointer="/now")])
    if not datetime(1970, 1, 1, tzinfo=UTC) <= moment < datetime(9999, 1, 1, tzinfo=UTC):
        code, title = OUT_OF_RANGE
        raise InvalidInput([Problem(code, title, "now must fall between 1970 and 9998.", pointer="/now")])
    return int(moment.timestamp() * 1000)


def move(clock: Clock, asked: ClockMove) -> None:
    if asked.frozen_at_ms is not None:
        clock.freeze(asked.frozen_at_ms)
    else:
        clock.advance(asked.advance_secs)


def shown(clock: Clock) -> dict[str, Any]:
    return {"record_type": "clock", "now": timestamp_of_ms(clock.now_ms()), "frozen": clock.frozen}
