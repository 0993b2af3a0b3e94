"""ovp's worker app for uvicorn, in the comparison of servers (see bench/server.py): logging set up as
`ovp serve` sets it up in its workers, access log included, so both servers do the same work."""

from __future__ import annotations

import logging.config

from ovp.config import Settings
from ovp.processes.logs import logging_config
from ovp.server.worker import Worker
from ovp.server.worker import app as worker_app


def app() -> Worker:
    settings = Settings()
    logging.config.dictConfig(logging_config(settings.log_format, access_log=settings.access_log))
    return worker_app()
