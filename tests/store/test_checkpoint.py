"""Who checkpoints an SQLite file's write-ahead log. A served file's log stays short under writes
that never pause: each checkpoint ends with the writers held for a moment, so that the next writer
starts the log again. A command's connection checkpoints in its commits, as SQLite does by default;
the webhook sender's leaves it to the workers."""

from __future__ import annotations

import asyncio
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ovp.domain.ids import IdGenerator
from ovp.services import profiles
from ovp.store.backends import open_database
from ovp.store.checkpoint import INTERVAL_S, WalCheckpoints
from ovp.store.database import Database, Transaction

ACCOUNT = "checkpoints"
WRITERS = 16
RESTARTS = 3
LIMIT_S = 8.0
# The log's layout (SQLite's file format, "The WAL File Format"): a header, then frames of a header
# and a page each; ovp's files have SQLite's default pages.
WAL_HEADER, FRAME_HEADER, PAGE = 32, 24, 4096


def _create(name: str, ids: IdGenerator) -> Callable[[Transaction], Any]:
    return lambda tx: profiles.resource.create(tx, ACCOUNT, profiles.resource.kind.parse_new({"name": name}), ids)


def _restarts(wal: Path) -> int:
    """The log's checkpoint sequence number (its header's bytes 12 to 15): SQLite adds one each
    time a writer starts the log again from its beginning."""
    if not wal.exists():
        return 0
    with wal.open("rb") as log:
        header = log.read(16)
    return int(struct.unpack(">I", header[12:16])[0]) if len(header) == 16 else 0


def _log_after_writes(path: Path, checkpoints: WalCheckpoints, count: int) -> tuple[int, int]:
    """How many times the log started again, and how many pages it holds at most, after `count`
    writes one after the other (read before the database closes, since the last connection to
    close checkpoints the log and deletes it)."""
    ids = IdGenerator()
    wal = Path(f"{path}-wal")

    async def scenario() -> tuple[int, int]:
        database = open_database(f"sqlite:///{path}", sqlite_checkpoints=checkpoints)
        await database.migrate()
        await database.start()
        try:
            first = _restarts(wal)
            for number in range(count):
                await database.write(_create(f"profile {number}", ids))
            return _restarts(wal) - first, (wal.stat().st_size - WAL_HEADER) // (PAGE + FRAME_HEADER)
        finally:
            await database.close()

    return asyncio.run(scenario())


def test_a_commands_writes_checkpoint_the_log_as_it_passes_a_thousand_pages(tmp_path: Path) -> None:
    restarts, _pages = _log_after_writes(tmp_path / "ovp.db", WalCheckpoints.IN_COMMITS, 1500)
    assert restarts >= 1


def test_the_senders_writes_leave_the_log_to_the_workers(tmp_path: Path) -> None:
    restarts, pages = _log_after_writes(tmp_path / "ovp.db", WalCheckpoints.ELSEWHERE, 1500)
    assert restarts == 0
    assert pages > 1000


def test_the_log_starts_again_while_writes_go_on(tmp_path: Path) -> None:
    path = tmp_path / "ovp.db"
    wal = Path(f"{path}-wal")
    ids = IdGenerator()
    written = 0

    async def write_on(database: Database, until: float) -> None:
        nonlocal written
        while time.monotonic() < until:
            await database.write(_create(f"profile {written}", ids))
            written += 1

    async def scenario() -> tuple[int, int]:
        database = open_database(f"sqlite:///{path}", sqlite_checkpoints=WalCheckpoints.THREAD)
        await database.migrate()
        await database.start()
        try:
            first = _restarts(wal)
            until = time.monotonic() + LIMIT_S
            writers = [asyncio.create_task(write_on(database, until)) for _ in range(WRITERS)]
            while time.monotonic() < until and _restarts(wal) < first + RESTARTS:
                await asyncio.sleep(INTERVAL_S / 10)
            last = _restarts(wal)
            for writer in writers:
                writer.cancel()
            await asyncio.gather(*writers, return_exceptions=True)
            return first, last
        finally:
            await database.close()

    first, last = asyncio.run(scenario())
    assert last >= first + RESTARTS, f"the log started again {last - first} times under {written} writes"
    assert written > 500
