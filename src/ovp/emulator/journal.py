"""The request journal: what each account asked, and what it was answered.

It is bounded three ways, so that no client can grow a server's memory without end: a body is
kept up to MAX_BODY_BYTES (and marked cut beyond), an account keeps its last MAX_ENTRIES_PER_ACCOUNT
entries and MAX_BYTES_PER_ACCOUNT bytes of bodies, and all accounts together keep MAX_BYTES, the
accounts journaled least recently being dropped first.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from ovp.domain.clock import timestamp

MAX_BODY_BYTES = 64 * 1024
MAX_ENTRIES_PER_ACCOUNT = 1000
MAX_BYTES_PER_ACCOUNT = 4 * 1024 * 1024
MAX_BYTES = 64 * 1024 * 1024
MAX_CLEARED_ACCOUNTS = 100_000
ENTRY_OVERHEAD_BYTES = 256  # what an entry costs beyond its body, roughly


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """Kept raw, as every request of an open-mode account is journaled; formatted when listed."""

    method: str
    path: str
    query_string: bytes
    body: bytes | None  # as sent, up to MAX_BODY_BYTES
    body_truncated: bool
    status: int
    time_ns: int
    ignored_fields: tuple[str, ...] = ()  # what of the body ovp's document does not know
    # request: what the account asked ovp; webhook: what ovp sent the account's receiver (`path` is
    # the URL, `status` the receiver's answer, 0 for none)
    kind: str = "request"

    @classmethod
    def of(cls, method: str, path: str, query_string: bytes, body: bytes | None, status: int,
           time_ns: int, ignored_fields: tuple[str, ...] = (), kind: str = "request") -> JournalEntry:
        cut = body is not None and len(body) > MAX_BODY_BYTES
        return cls(method, path, query_string, body[:MAX_BODY_BYTES] if cut and body else body, cut, status, time_ns,
                   ignored_fields, kind)

    @property
    def size(self) -> int:
        return ENTRY_OVERHEAD_BYTES + len(self.path) + len(self.query_string) + len(self.body or b"")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "method": self.method,
            "path": self.path,
            "query": dict(parse_qsl(self.query_string.decode("latin-1"), keep_blank_values=True)),
            "body": self._shown_body(),
            "body_truncated": self.body_truncated,
            "ignored_fields": list(self.ignored_fields),
            "status": self.status,
            "time": timestamp(datetime.fromtimestamp(self.time_ns / 1e9, UTC)),
        }

    def _shown_body(self) -> Any:
        """The body as the JSON it was, when whole and JSON; else as text."""
        if not self.body:
            return None
        if not self.body_truncated:
            try:
                return orjson.loads(self.body)
            except orjson.JSONDecodeError:
                pass
        return self.body.decode("utf-8", errors="replace")


class _AccountJournal:
    def __init__(self) -> None:
        self.entries: deque[JournalEntry] = deque()
        self.bytes = 0


class Journal:
    def __init__(self, *, max_bytes: int = MAX_BYTES, max_bytes_per_account: int = MAX_BYTES_PER_ACCOUNT,
                 max_entries_per_account: int = MAX_ENTRIES_PER_ACCOUNT) -> None:
        self._accounts: OrderedDict[str, _AccountJournal] = OrderedDict()  # least recently journaled first
        self._cleared_ns: dict[str, int] = {}
        self._cleared_all_ns = 0
        self._bytes = 0
        self._max_bytes = max_bytes
        self._max_bytes_per_account = max_bytes_per_account
        self._max_entries_per_account = max_entries_per_account

    @property
    def bytes(self) -> int:
        return self._bytes

    def record(self, account_id: str, entry: JournalEntry) -> None:
        journal = self._accounts.get(account_id)
        if journal is None:
            journal = self._accounts[account_id] = _AccountJournal()
        else:
            self._accounts.move_to_end(account_id)
        journal.entries.append(entry)
        journal.bytes += entry.size
        self._bytes += entry.size
        while journal.entries and (len(journal.entries) > self._max_entries_per_account
                                   or journal.bytes > self._max_bytes_per_account):
            self._forget_oldest(journal)
        while self._bytes > self._max_bytes and len(self._accounts) > 1:
            _oldest_id, oldest = self._accounts.popitem(last=False)
            self._bytes -= oldest.bytes

    def _forget_oldest(self, journal: _AccountJournal) -> None:
        dropped = journal.entries.popleft()
        journal.bytes -= dropped.size
        self._bytes -= dropped.size

    def entries(self, account_id: str) -> list[JournalEntry]:
        journal = self._accounts.get(account_id)
        return list(journal.entries) if journal is not None else []

    def cleared_at_ns(self, account_id: str) -> int:
        """When the account's journal was last cleared (0: never): what is kept elsewhere and shown
        in it (webhook attempts, in the database) is shown from then on."""
        return max(self._cleared_all_ns, self._cleared_ns.get(account_id, 0))

    def clear(self, account_id: str | None = None) -> None:
        """One account's journal, or every account's when None."""
        if account_id is None:
            self._accounts.clear()
            self._cleared_ns.clear()
            self._cleared_all_ns = time.time_ns()
            self._bytes = 0
            return
        if len(self._cleared_ns) >= MAX_CLEARED_ACCOUNTS:
            self._cleared_ns.clear()  # bounded: a forgotten clear shows older webhook attempts again
        self._cleared_ns[account_id] = time.time_ns()
        journal = self._accounts.pop(account_id, None)
        if journal is not None:
            self._bytes -= journal.bytes


def webhook_attempts(payload: str, attempts: str) -> list[JournalEntry]:
    """A delivery's attempts (the JSON of ovp.webhooks.attempts, newest first) as journal entries,
    oldest first: the URL posted to, the event, and the receiver's status (0 for no answer)."""
    entries = []
    for attempt in reversed(orjson.loads(attempts)):
        response = attempt["http"]["response"]
        started = datetime.fromisoformat(attempt["started_at"])
        entries.append(JournalEntry.of("POST", attempt["http"]["request"]["url"] or "", b"", payload.encode(),
                                       response["status"] if response else 0, int(started.timestamp() * 1e9),
                                       kind="webhook"))
    return entries
