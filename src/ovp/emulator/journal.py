"""The request journal: what each account asked, and what it was answered."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

MAX_ENTRIES_PER_ACCOUNT = 1000


@dataclass(frozen=True)
class JournalEntry:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    time: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
