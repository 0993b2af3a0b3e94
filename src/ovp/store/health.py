"""Whether the database can serve, and why not.

A database in trouble fails every request the same way, so the log says so once when the trouble
starts and once when it ends, never once per request. While it lasts, the requests it concerns get
their 503 at once instead of each waiting out the deadline for the same answer, and a watcher
tries the database every PROBE_INTERVAL_S until it serves again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from ovp.domain.errors import ServiceUnavailable

log = logging.getLogger("ovp")

PROBE_INTERVAL_S = 0.5


@dataclass(frozen=True)
class Outage:
    """Why the database cannot serve: `cause` names it in a word or two (for /readyz and the log),
    `detail` tells a client what it means. `writes_only`: reads still work (a full disk, a lock
    that another process keeps)."""

    cause: str
    detail: str
    writes_only: bool = False

    def error(self) -> ServiceUnavailable:
        return ServiceUnavailable(self.detail)


def unreachable(reason: str) -> Outage:
    return Outage("unreachable", f"The database cannot be reached ({reason}); try again shortly.")


def too_slow(timeout_s: float) -> Outage:
    return Outage("timeout", f"The database did not answer within {timeout_s:g} s; try again shortly.")


def locked(timeout_s: float) -> Outage:
    return Outage("locked", f"Another process kept the database locked for {timeout_s:g} s; try again shortly.",
                  writes_only=True)


DISK_FULL = Outage("disk full", "The database's disk is full: writes are refused until space is freed.",
                   writes_only=True)
READ_ONLY = Outage("read-only", "The database's storage is read-only: writes are refused until it is writable.",
                   writes_only=True)
IO_ERROR = Outage("i/o error", "The database's storage reported an I/O error; try again shortly.")
FILE_REPLACED = Outage(
    "file replaced",
    "The database file was deleted or replaced while this server ran: restart ovp to serve the file now at that "
    "path.",
)


class Health:
    def __init__(self, told: Callable[[bool], object] = lambda _available: None) -> None:
        """`told`: called with False when an outage starts, True when it ends."""
        self.outage: Outage | None = None
        self._since = 0.0
        self._told = told

    def refuse_if_down(self, *, write: bool) -> None:
        """Raises the outage's 503 at once, while it lasts, for the requests it concerns."""
        outage = self.outage
        if outage is not None and (write or not outage.writes_only):
            raise outage.error()

    def failed(self, outage: Outage) -> ServiceUnavailable:
        """Records an outage (logged when it starts or changes cause); answers the 503 to raise."""
        if self.outage is None or self.outage.cause != outage.cause:
            log.warning("database unavailable: %s: %s", outage.cause, outage.detail)
            if self.outage is None:
                self._since = time.monotonic()
                self._told(False)
        self.outage = outage
        return outage.error()

    def recovered(self) -> None:
        if self.outage is not None:
            log.warning("database available again after %.1f s (it was %s)",
                        time.monotonic() - self._since, self.outage.cause)
            self.outage = None
            self._told(True)
