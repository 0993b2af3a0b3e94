"""The application a worker process serves: ovp's ASGI app, reporting to the server's admin
listener while it runs (see ovp.admin.reporting), and tied to the server's process."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ovp.admin.reporting import Reporting
from ovp.api.app import OvpApp, app_from_environment
from ovp.api.asgi import Message, Receive, Scope, Send
from ovp.processes.parent import end_with_the_server

log = logging.getLogger("ovp")

# Set by `ovp serve` when an admin listener reads the workers' states.
STATES_VARIABLE = "OVP_WORKER_STATES"


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
