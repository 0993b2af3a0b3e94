"""The sweep that writes the call.hangup of each call with webhooks that expired unended. It runs
in every process that decides calls (each worker of `ovp serve`, or the one app of a test tool), on
that process's clock, so that a test that moves the clock of the worker it talks to sees its calls
expire there; the sender process only sends. Sweeps of several processes and servers write each
hangup once: the statement that finds a call marks it, in the same transaction. A sweep reads first,
so that one with nothing to do takes no write lock."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable

from ovp.domain.clock import CLOCK
from ovp.domain.errors import in_one_line
from ovp.services import call_events
from ovp.store.database import Database

log = logging.getLogger("ovp")

SWEEP_S = 1.0
# A minute at least: the clock a test moved back looks at the minute before its new time, and
# another server's clock may have seen a call expire a little later.
MARGIN_MS = 60_000


class ExpirySweep:
    """`on_swept`: called when a sweep wrote events (an in-process sender looks at once)."""

    def __init__(self, database: Database, on_swept: Callable[[], None] | None = None) -> None:
        self._database = database
        self._on_swept = on_swept
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.get_running_loop().create_task(self._sweep_forever())

    async def close(self) -> None:
        """Stops between two sweeps; a sweep cut short rolls back and is done by the next one."""
        task, self._task = self._task, None
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            return
        self._stopping.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), SWEEP_S)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def _sweep_forever(self) -> None:
        since: int | None = None
        while not self._stopping.is_set():
            try:
                now = CLOCK.now_ms()
                lookback = call_events.EXPIRY_LOOKBACK_MS if since is None else max(MARGIN_MS, now - since)
                due = await self._database.read_one(functools.partial(call_events.any_expired, now_ms=now,
                                                                      lookback_ms=lookback))
                swept = await self._database.write(functools.partial(call_events.expired, now_ms=now,
                                                                     lookback_ms=lookback)) if due else 0
                since = now - MARGIN_MS
                if swept and self._on_swept is not None:
                    self._on_swept()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("webhooks: could not sweep expired calls: %s", in_one_line(error))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), SWEEP_S)
