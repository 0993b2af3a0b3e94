"""Timestamps in Telnyx's format: UTC ISO 8601 with milliseconds, such as 2018-02-02T22:25:27.521Z."""

from __future__ import annotations

from datetime import UTC, datetime


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def now_timestamp() -> str:
    return timestamp(datetime.now(UTC))
