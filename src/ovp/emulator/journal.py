"""The request journal: what each account asked, and what it was answered."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from ovp.domain.clock import timestamp

MAX_ENTRIES_PER_ACCOUNT = 1000


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """Kept raw, as every request of an open-mode account is journaled; formatted when listed."""

    method: str
    path: str
    query_string: bytes
    body: Any
    status: int
    time_ns: int

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True)),
            "body": self.body,
            "status": self.status,
            "time": timestamp(datetime.fromtimestamp(self.time_ns / 1e9, UTC)),
        }


class Journal:
    def __init__(self) -> None:
        self._entries: dict[str, deque[JournalEntry]] = {}

    def record(self, account_id: str, entry: JournalEntry) -> None:
        self._entries.setdefault(account_id, deque(maxlen=MAX_ENTRIES_PER_ACCOUNT)).append(entry)

    def entries(self, account_id: str) -> list[JournalEntry]:
        return list(self._entries.get(account_id, ()))

    def clear(self, account_id: str | None = None) -> None:
        """One account's journal, or every account's when None."""
        if account_id is None:
            self._entries.clear()
        else:
            self._entries.pop(account_id, None)
