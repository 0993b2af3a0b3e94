"""What a worker reports to the admin listener while it runs: its state every BEAT_S (see
ovp.admin.states), its database's readiness even when no request asks for it, and the active calls
gauge of /metrics."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path

from ovp.admin import states
from ovp.api import metrics
from ovp.domain.errors import ServiceUnavailable
from ovp.store.database import Database

# How often a worker that served no request asks its database whether it serves, and counts the
# active calls for the admin listener's /metrics.
READY_CHECK_S = 1.0
ACTIVE_CALLS_EVERY_S = 5.0


class Reporting:
    """The worker's reports, from the start of its serving to its end."""

    def __init__(self, directory: Path, database: Database) -> None:
        self._directory = directory
        self._tasks = [asyncio.create_task(_beat(directory, database)), asyncio.create_task(_check(database))]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        states.forget(self._directory, os.getpid())


async def _beat(directory: Path, database: Database) -> None:
    pid = os.getpid()
    while True:
        outage = database.health.outage
        states.write(directory, states.WorkerState(pid, states.now(), outage is None,
                                                   None if outage is None else outage.cause))
        await asyncio.sleep(states.BEAT_S)


async def _check(database: Database) -> None:
    """Keeps the worker's readiness true while it serves no request, and the active calls gauge
    fresh for the admin listener's /metrics (the API port's /metrics counts them when scraped)."""
    since_counted = ACTIVE_CALLS_EVERY_S
    while True:
        await asyncio.sleep(READY_CHECK_S)
        since_counted += READY_CHECK_S
        with contextlib.suppress(ServiceUnavailable):  # the outage is recorded, and the beat says so
            if since_counted >= ACTIVE_CALLS_EVERY_S:
                since_counted = 0.0
                await metrics.read_database_gauges(database)
            elif not database.served_within(READY_CHECK_S):
                await database.ping()
