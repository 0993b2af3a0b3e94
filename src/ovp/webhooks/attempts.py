"""One delivery attempt, recorded as Telnyx's webhook_deliveries show it (the SDKs' Attempt type)."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Any

from ovp.domain.clock import timestamp_of_ms

# What an attempt's `errors` hold (Telnyx's own codes are not published): why it failed, beside
# the receiver's answer when there was one.
COULD_NOT_CONNECT = 1
TIMED_OUT = 2
NOT_2XX = 3
NO_URL = 4  # the connection has no webhook_event_url any more, or is gone
TRANSPORT = 5  # the connection broke, or the answer was not HTTP

# Telnyx keeps at most 10 kB of a receiver's answer.
KEPT_BYTES = 10_000


@dataclass(frozen=True)
class Attempt:
    url: str | None
    request_headers: list[list[str]]
    started_ms: int
    finished_ms: int
    status: int | None  # the receiver's HTTP status, when it answered
    response_headers: list[list[str]]
    response_body: str
    errors: list[int]

    @property
    def delivered(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    def to_json(self) -> dict[str, Any]:
        response = None if self.status is None else {
            "status": self.status, "headers": self.response_headers, "body": self.response_body}
        return {"status": "delivered" if self.delivered else "failed",
                "started_at": timestamp_of_ms(self.started_ms), "finished_at": timestamp_of_ms(self.finished_ms),
                "errors": self.errors,
                "http": {"request": {"url": self.url, "headers": self.request_headers}, "response": response}}


def kept(answer: bytes) -> str:
    """What an attempt keeps of a receiver's answer: its first KEPT_BYTES as UTF-8, a byte that is
    not UTF-8 replaced, a character cut at the end left out (not final: the decoder holds it back)."""
    return codecs.getincrementaldecoder("utf-8")(errors="replace").decode(answer[:KEPT_BYTES], final=False)
