"""Timestamps in Telnyx's format: UTC ISO 8601 with milliseconds, such as 2018-02-02T22:25:27.521Z."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@lru_cache(maxsize=4)
def _whole_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def now_timestamp() -> str:
    # Every write asks for the time; formatting each whole second once keeps that cheap.
    return timestamp_of_ms(time.time_ns() // 1_000_000)


def timestamp_of_ms(milliseconds: int) -> str:
    """The timestamp of an epoch time in milliseconds."""
    seconds, fraction = divmod(milliseconds, 1000)
    return f"{_whole_second(seconds)}.{fraction:03d}Z"
