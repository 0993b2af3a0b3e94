"""The application a worker process serves: ovp's ASGI app, reporting to the server's admin
listener while it runs (see ovp.admin.reporting), and tied to the server's process."""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import sys
from pathlib import Path

from ovp.admin.reporting import Reporting
from ovp.api.app import OvpApp, app_from_environment
from ovp.api.asgi import Message, Receive, Scope, Send

log = logging.getLogger("ovp")

# Set by `ovp serve` when an admin listener reads the workers' states.
STATES_VARIABLE = "OVP_WORKER_STATES"
# The process id of `ovp serve`, whose workers these are.
SERVER_VARIABLE = "OVP_SERVER_PID"


class Worker:
    """ovp's app, reporting to the admin listener while it runs (when there is one)."""

    def __init__(self, app: OvpApp, states_directory: Path | None) -> None:
        self.app = app
        self._directory = states_directory
        self._reporting: Reporting | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def observed_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.shutdown" and self._reporting is not None:
                await self._reporting.stop()
            return message

        async def observed_send(message: Message) -> None:
            # A worker's start and end in the words of uvicorn and gunicorn, which operators' log
            # searches know.
            if message["type"] == "lifespan.startup.complete":
                log.info("Started server process [%d]", os.getpid())
                if self._directory is not None:
                    self._reporting = Reporting(self._directory, self.app.context.database)
            elif message["type"] == "lifespan.shutdown.complete":
                log.info("Application shutdown complete")
            await send(message)

        await self.app(scope, observed_receive, observed_send)


def app() -> Worker:
    """The factory the server calls in each worker process."""
    end_with_the_server()
    directory = os.environ.get(STATES_VARIABLE)
    return Worker(app_from_environment(), Path(directory) if directory else None)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def end_with_the_server() -> None:
    """Has the kernel kill this worker (or the webhook sender) when the server's process ends,
    however it ends (SIGKILL included): a worker left behind would go on serving the port, and the
    database, alone."""
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        log.warning("a worker cannot be tied to its server's process: prctl failed with errno %d", ctypes.get_errno())
    server = os.environ.get(SERVER_VARIABLE)
    if server is not None and os.getppid() != int(server):  # the server ended before the tie was made
        os.kill(os.getpid(), signal.SIGKILL)
