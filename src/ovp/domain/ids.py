"""Time-ordered 63-bit ids, made without coordination between processes (a snowflake layout),
and time-ordered UUIDs.

    41 bits  milliseconds since 2020-01-01 UTC   (good until 2089)
    10 bits  a random node number, drawn once per generator
    12 bits  a sequence within the millisecond

Two processes collide only if they draw the same node number and make an id in the same
millisecond with the same sequence; the store's primary key turns that rare case into a retry.
"""

from __future__ import annotations

import os
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


def uuid_text(value: int) -> str:
    """The canonical text of a 128-bit UUID, as str(uuid.UUID(int=value)) writes it, at a tenth of
    its cost: every call's webhook events make four (some 3 µs each through uuid.UUID)."""
    digits = f"{value:032x}"
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _versioned(value: int, version: int) -> int:
    value = value & ~(0xF << 76) | version << 76
    return value & ~(0x3 << 62) | 0x2 << 62  # the RFC's variant


def random_uuid() -> str:
    """A random UUID, version 4 (RFC 9562, section 5.4), as uuid.uuid4 makes it."""
    return uuid_text(_versioned(int.from_bytes(os.urandom(16), "big"), 4))


def time_ordered_uuid(now_ms: int) -> str:
    """A UUID of version 7 (RFC 9562, section 5.7): 48 bits of epoch milliseconds, then 74 random
    bits. Rows keyed by it go in at the end of their index, where random UUIDs each land on a page
    of their own: in an SQLite table of 80,000 events, some 25 µs a row written against 40 (Python
    3.14's uuid.uuid7 makes the same)."""
    return uuid_text(_versioned((now_ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10), "big"), 7))
