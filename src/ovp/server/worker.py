"""The application a worker process serves: ovp's ASGI app, and beside it, while a server's admin
listener wants them, the worker's state (see ovp.server.states) and the active calls gauge."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import sys
from pathlib import Path

from ovp.api import metrics
from ovp.api.app import OvpApp, app_from_environment
from ovp.api.asgi import Message, Receive, Scope, Send
from ovp.domain.errors import ServiceUnavailable
from ovp.server import states
from ovp.store.database import Database

log = logging.getLogger("ovp")

# Set by `ovp serve` when an admin listener reads the workers' states.
STATES_VARIABLE = "OVP_WORKER_STATES"
# The process id of `ovp serve`, whose workers these are.
SERVER_VARIABLE = "OVP_SERVER_PID"
# How often a worker that served no request asks its database whether it serves, and counts the
# active calls for the admin listener's /metrics.
READY_CHECK_S = 1.0
ACTIVE_CALLS_EVERY_S = 5.0


class Worker:
    """ovp's app, with the worker's state kept while it runs."""

    def __init__(self, app: OvpApp, states_directory: Path | None) -> None:
        self.app = app
        self._directory = states_directory
        self._tasks: list[asyncio.Task[None]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def observed_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown":
                await self._stop_observing()
            return message

        async def observed_send(message: Message) -> None:
            # A worker's start and end in the words of uvicorn and gunicorn, which operators' log
            # searches know.
            if message["type"] == "lifespan.startup.complete":
                log.info("Started server process [%d]", os.getpid())
                if self._directory is not None:
                    self._start(self._directory)
            elif message["type"] == "lifespan.shutdown.complete":
                log.info("Application shutdown complete")
            await send(message)

        await self.app(scope, observed_receive, observed_send)

    def _start(self, directory: Path) -> None:
        database = self.app.context.database
        self._tasks = [asyncio.create_task(_beat(directory, database)), asyncio.create_task(_check(database))]

    async def _stop_observing(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._directory is not None:
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
                await metrics.count_active_calls(database)
            elif not database.served_within(READY_CHECK_S):
                await database.ping()


def app() -> Worker:
    """The factory the server calls in each worker process."""
    _end_with_the_server()
    directory = os.environ.get(STATES_VARIABLE)
    return Worker(app_from_environment(), Path(directory) if directory else None)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _end_with_the_server() -> None:
    """Has the kernel kill this worker when the server's process ends, however it ends (SIGKILL
    included): a worker left behind would go on serving the port, and the database, alone."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        log.warning("a worker cannot be tied to its server's process: prctl failed with errno %d", ctypes.get_errno())
    server = os.environ.get(SERVER_VARIABLE)
    if server is not None and os.getppid() != int(server):  # the server ended before the tie was made
        os.kill(os.getpid(), signal.SIGKILL)
