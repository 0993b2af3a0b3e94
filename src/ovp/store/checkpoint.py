"""WAL checkpoints for a served SQLite file, off the request path, and a log that stays short.

By default SQLite checkpoints inside the COMMIT that takes the write-ahead log past 1,000 pages:
that request then waits while pages are copied into the database and synced, which at thousands
of writes a second put tens of milliseconds on one request in a hundred. A server's connections
turn that off (wal_autocheckpoint=0), and a thread of each worker checkpoints instead, on a
connection of its own, in PASSIVE mode: it never waits for readers or writers. sqlite3 releases
the GIL while SQLite works, so requests go on meanwhile.

A PASSIVE checkpoint alone never lets the log start again while writes go on: a writer starts the
log again from its beginning only when everything in it is in the database, and under steady
writes some commit always lands between a checkpoint and the next writer. Measured under calls (`python
-m bench --scenarios calls --duration 60`), the log grew by 16 MB a second, to 960 MB in a minute,
while the database held 35 MB. So each turn, once the bulk is copied, holds ovp's writer lock
(ovp.store.writer_lock) for the moment it takes to copy the pages written meanwhile (a few
milliseconds): the log is then all in the database, and the next writer starts it again. The
same load kept it at 22 MB. This process's writers let the thread have the lock first when it
waits for it: a writer that took it again the moment it let it go would keep the thread from it.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from enum import Enum

from ovp.domain.errors import in_one_line
from ovp.store.writer_lock import WriterLock

log = logging.getLogger("ovp")
INTERVAL_S = 0.5
# A PASSIVE checkpoint never waits for readers or writers; this bounds a wait on the file itself.
BUSY_TIMEOUT_MS = 1000
# How long a turn waits for the writers' lock to finish its checkpoint; a turn that does not get
# it leaves the log to the next.
WRITERS_WAIT_S = 0.05
GIVE_WAY_PAUSE_S = 0.0001


class WalCheckpoints(Enum):
    """Who checkpoints an SQLite file's write-ahead log, for a process's connections to it."""

    IN_COMMITS = "in_commits"  # SQLite, in the COMMIT that takes the log past 1,000 pages: a command, a test
    THREAD = "thread"  # a thread of this process, a Checkpointer: a server's worker
    ELSEWHERE = "elsewhere"  # the server's workers: its webhook sender, whose COMMITs hold the writers' lock


class Checkpointer:
    def __init__(self, path: str) -> None:
        self._path = path
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        self._waiting = False  # the thread waits for the writers' lock

    async def give_way(self) -> None:
        """What a writer of this process awaits before it takes the writers' lock: the checkpoint
        thread's turn, when it waits for it (at most WRITERS_WAIT_S)."""
        while self._waiting:
            await asyncio.sleep(GIVE_WAY_PAUSE_S)

    def start(self) -> None:
        """Starts checkpointing; after a stop, starts again (an app may be served more than once)."""
        if self._thread is not None:
            return
        self._stopped.clear()
        self._thread = threading.Thread(target=self._run, name="ovp-wal-checkpoint", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopped.set()
        self._thread.join()
        self._thread = None

    def _checkpoint(self, connection: sqlite3.Connection, writers: WriterLock) -> None:
        """Copies the log into the database while writers go on, then the little they wrote
        meanwhile with their lock held, so that the next writer starts the log again."""
        connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        self._waiting = True
        try:
            held = writers.hold(time.monotonic() + WRITERS_WAIT_S)
        finally:
            self._waiting = False
        if held:
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                writers.release()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        writers = WriterLock(self._path)
        try:
            while not self._stopped.wait(INTERVAL_S):
                try:
                    self._checkpoint(connection, writers)
                except sqlite3.Error as error:  # the file is busy, gone or its disk full for a moment:
                    # the next turn retries; one plain line, as every database fault is logged
                    log.warning("WAL checkpoint failed: %s", in_one_line(error))
        finally:
            # A last full pass, so the file a stopped server leaves holds everything.
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                writers.close()
                connection.close()
