"""Time-ordered 63-bit ids, made without coordination between processes (a snowflake layout).

    41 bits  milliseconds since 2020-01-01 UTC   (good until 2089)
    10 bits  a random node number, drawn once per generator
    12 bits  a sequence within the millisecond

Two processes collide only if they draw the same node number and make an id in the same
millisecond with the same sequence; the store's primary key turns that rare case into a retry.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable

from ovp.domain.clock import wall_ms

EPOCH_MS = 1_577_836_800_000
NODE_BITS = 10
SEQUENCE_BITS = 12
MAX_ID = 2**63 - 1


class IdGenerator:
    def __init__(self, clock_ms: Callable[[], int] = wall_ms) -> None:
        self._clock_ms = clock_ms
        self._node = secrets.randbelow(1 << NODE_BITS)
        self._last_ms = -1
        self._sequence = 0
        self._lock = threading.Lock()

    def reseed(self) -> None:
        """Draw a new node number, after a collision showed another process holds this one."""
        with self._lock:
            self._node = secrets.randbelow(1 << NODE_BITS)

    def next_id(self) -> int:
        with self._lock:
            now = max(self._clock_ms() - EPOCH_MS, self._last_ms)
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & ((1 << SEQUENCE_BITS) - 1)
                if self._sequence == 0:
                    now += 1  # this millisecond's sequence is spent: borrow the next one
            else:
                self._sequence = 0
            self._last_ms = now
            return (now << (NODE_BITS + SEQUENCE_BITS)) | (self._node << SEQUENCE_BITS) | self._sequence


def parse_id(text: str) -> int | None:
    """The id in a path, or None when it cannot name any resource (not a number, or out of range)."""
    # One id, one URL: "0123" is not another name for 123.
    if not text.isascii() or not text.isdigit() or len(text) > 19 or text.startswith("0"):
        return None
    value = int(text)
    return value if 0 < value <= MAX_ID else None
