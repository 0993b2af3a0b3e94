"""WAL checkpoints for a served SQLite file, off the request path.

By default SQLite checkpoints inside the COMMIT that takes the write-ahead log past 1,000 pages:
that request then waits while pages are copied into the database and synced, which at thousands
of writes a second put tens of milliseconds on one request in a hundred. The serving connections
turn that off (wal_autocheckpoint=0), and this thread checkpoints instead, on a connection of its
own, in PASSIVE mode: it never waits for readers or writers, and the log stays short because it
runs often. sqlite3 releases the GIL while SQLite works, so requests go on meanwhile.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

from ovp.domain.errors import in_one_line

log = logging.getLogger("ovp")
INTERVAL_S = 0.5
# A PASSIVE checkpoint never waits for readers or writers; this bounds a wait on the file itself.
BUSY_TIMEOUT_MS = 1000


class Checkpointer:
    def __init__(self, path: str) -> None:
        self._path = path
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

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

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            while not self._stopped.wait(INTERVAL_S):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as error:  # the file is busy, gone or its disk full for a moment:
                    # the next turn retries; one plain line, as every database fault is logged
                    log.warning("WAL checkpoint failed: %s", in_one_line(error))
        finally:
            # A last full pass, so the file a stopped server leaves holds everything.
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            finally:
                connection.close()
