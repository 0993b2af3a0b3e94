"""One writer at a time across the processes that serve one SQLite file, taken in turn.

SQLite has a single writer. A process that finds the file locked waits in SQLite's busy handler,
which sleeps 1, 2, 5, 10 ... up to 100 ms between tries; under steady writes from two workers the
one that lost keeps losing, and its writes wait for tens of milliseconds. ovp's processes first
take an exclusive flock on a file beside the database (`<database>-writer`), tried at most a
millisecond apart, so the writers alternate and SQLite's own lock is free when they get to it. The
tries are spaced with asyncio's sleep, so a process waiting for the lock goes on serving meanwhile.
A worker's checkpoint thread (ovp.store.checkpoint) takes it too, for a moment, on a descriptor of
its own: a flock excludes every other open of the file, in this process as in others.

The lock is a file of its own: a second descriptor on the database file itself, once closed,
would drop the POSIX locks SQLite holds on it. The kernel releases a flock when its holder dies.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from collections.abc import Iterator

FIRST_PAUSE_S = 0.0001
LONGEST_PAUSE_S = 0.001


class WriterLock:
    def __init__(self, database_path: str) -> None:
        self._path = database_path + "-writer"
        self._descriptor: int | None = None

    async def acquire(self, deadline: float) -> bool:
        """Takes the lock; False if another process kept it until `deadline` (time.monotonic())."""
        for pause in _pauses(deadline):
            if self._try():
                return True
            await asyncio.sleep(pause)
        return self._try()

    def hold(self, deadline: float) -> bool:
        """`acquire` for a thread of its own, which sleeps between its tries."""
        for pause in _pauses(deadline):
            if self._try():
                return True
            time.sleep(pause)
        return self._try()

    def _try(self) -> bool:
        try:
            fcntl.flock(self._open(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

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


def _pauses(deadline: float) -> Iterator[float]:
    """The pauses between two tries until `deadline`: short first, then at most LONGEST_PAUSE_S."""
    pause = FIRST_PAUSE_S
    while time.monotonic() < deadline:
        yield pause
        pause = min(pause * 2, LONGEST_PAUSE_S)
