"""The request journal is bounded: cut bodies, a count and bytes per account, and bytes in all."""

from __future__ import annotations

import orjson

from ovp.emulator.journal import ENTRY_OVERHEAD_BYTES, MAX_BODY_BYTES, Journal, JournalEntry


def _entry(body: bytes | None = None, path: str = "/v2/outbound_voice_profiles") -> JournalEntry:
    return JournalEntry.of("POST", path, b"", body, 200, 0)


def test_a_body_over_64_kib_is_kept_cut_and_marked() -> None:
    big = orjson.dumps({"name": "x" * (MAX_BODY_BYTES * 2)})
    shown = _entry(big).to_json()
    assert shown["body_truncated"] is True
    assert isinstance(shown["body"], str)
    assert len(shown["body"]) == MAX_BODY_BYTES
    whole = _entry(orjson.dumps({"name": "office"})).to_json()
    assert (whole["body"], whole["body_truncated"]) == ({"name": "office"}, False)


def test_an_account_keeps_its_last_entries_within_its_count_and_bytes() -> None:
    journal = Journal(max_entries_per_account=3, max_bytes_per_account=10 * ENTRY_OVERHEAD_BYTES)
    for n in range(5):
        journal.record("a", _entry(path=f"/v2/{n}"))
    assert [entry.path for entry in journal.entries("a")] == ["/v2/2", "/v2/3", "/v2/4"]
    journal.record("a", _entry(b"x" * (8 * ENTRY_OVERHEAD_BYTES)))
    assert len(journal.entries("a")) == 1  # the big one alone fits the account's bytes


def test_all_accounts_together_keep_within_the_cap_least_recent_first() -> None:
    journal = Journal(max_bytes=4 * (ENTRY_OVERHEAD_BYTES + 100), max_bytes_per_account=10**9)
    for account in ("a", "b", "c"):
        journal.record(account, _entry(b"x" * 100, path="/"))
    journal.record("a", _entry(b"x" * 100, path="/"))  # a is now the most recent
    journal.record("d", _entry(b"x" * 100, path="/"))
    assert journal.entries("b") == []  # the least recently journaled went first
    assert len(journal.entries("a")) == 2
    assert journal.bytes <= 4 * (ENTRY_OVERHEAD_BYTES + 100 + 1)
    journal.clear()
    assert journal.bytes == 0
