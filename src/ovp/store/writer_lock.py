"""One writer at a time across the processes that serve one SQLite file, taken in turn.

SQLite has a single writer. A process that finds the file locked waits in SQLite's busy handler,
which sleeps 1, 2, 5, 10 ... up to 100 ms between tries; under steady writes from two workers the
one that lost keeps losing, and its writes wait for tens of milliseconds. ovp's processes first
take an exclusive flock on a file beside the database (`<database>-writer`), tried at most a
millisecond apart, so the writers alternate and SQLite's own lock is free when they get to it. The
tries are spaced with asyncio's sleep, so a process waiting for the lock goes on serving meanwhile.

The lock is a file of its own: a second descriptor on the database file itself, once closed,
would drop the POSIX locks SQLite holds on it. The kernel releases a flock when its holder dies.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time

FIRST_PAUSE_S = 0.0001
LONGEST_PAUSE_S = 0.001


class WriterLock:
    def __init__(self, database_path: str) -> None:
        self._path = database_path + "-writer"
        self._descriptor: int | None = None

    async def acquire(self, deadline: float) -> bool:
        """Takes the lock; False if another process kept it until `deadline` (time.monotonic())."""
        descriptor = self._open()
        pause = FIRST_PAUSE_S
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                await asyncio.sleep(pause)
                pause = min(pause * 2, LONGEST_PAUSE_S)

    def release(self) -> None:
        if self._descriptor is not None:
            fcntl.flock(self._descriptor, fcntl.LOCK_UN)

    def _open(self) -> int:
        if self._descriptor is None:
            self._descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self._descriptor

    def close(self) -> None:
        if self._descriptor is not None:
            os.close(self._descriptor)
            self._descriptor = None
