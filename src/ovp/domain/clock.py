"""ovp's time, and timestamps in Telnyx's format: UTC ISO 8601 with milliseconds, such as
2018-02-02T22:25:27.521Z.

Every rule bound to time (a day's spend and its reset at midnight UTC, a calling window, a call's
expiry and its set-up timeout, `created_at` and `updated_at`) reads `CLOCK`, which follows the
wall clock unless a test moved it (open mode's POST /_ovp/admin/clock). It is the process's own:
each worker of a server keeps its own. What must stay true to the world reads the wall clock
itself: ids, retry schedules, webhook signatures' timestamps, rate limits, logs."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from functools import lru_cache


def wall_ms() -> int:
    """The wall clock in epoch milliseconds, whatever a test did to CLOCK."""
    return time.time_ns() // 1_000_000


class Clock:
    """The wall clock, frozen at a moment or shifted by an offset when a test asks."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # moved by a request, read by every thread that asks the time
        self._frozen_ms: int | None = None
        self._offset_ms = 0

    def now_ms(self) -> int:
        frozen = self._frozen_ms
        return frozen if frozen is not None else wall_ms() + self._offset_ms

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000, UTC)

    @property
    def frozen(self) -> bool:
        return self._frozen_ms is not None

    def freeze(self, moment_ms: int) -> None:
        """Stops the clock at `moment_ms` (epoch milliseconds) until it is moved again or reset."""
        with self._lock:
            self._frozen_ms, self._offset_ms = moment_ms, 0

    def advance(self, seconds: float) -> None:
        """Moves the clock on by `seconds`; a frozen clock stays frozen at the new moment."""
        with self._lock:
            step = round(seconds * 1000)
            if self._frozen_ms is not None:
                self._frozen_ms += step
            else:
                self._offset_ms += step

    def reset(self) -> None:
        """Back to the wall clock."""
        with self._lock:
            self._frozen_ms, self._offset_ms = None, 0


CLOCK = Clock()


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


@lru_cache(maxsize=4)
def _whole_second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def now_timestamp() -> str:
    # Every write asks for the time; formatting each whole second once keeps that cheap.
    return timestamp_of_ms(CLOCK.now_ms())


def timestamp_of_ms(milliseconds: int) -> str:
    """The timestamp of an epoch time in milliseconds."""
    seconds, fraction = divmod(milliseconds, 1000)
    return f"{_whole_second(seconds)}.{fraction:03d}Z"
