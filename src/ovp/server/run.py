"""`ovp serve`: one process that answers, or a supervisor and its worker processes.

Each worker listens on a socket of its own, bound to the same address with SO_REUSEPORT, so the
kernel spreads new connections over the workers. (On one shared socket, the worker that woke first
took every connection a client opened at once: a benchmark of 32 connections measured one worker
in one run of three.) The supervisor restarts a worker that dies, stops every worker when one
cannot start, and on SIGTERM or SIGINT has them finish their requests within the shutdown timeout.
"""

from __future__ import annotations

import functools
import logging
import logging.config
import math
import multiprocessing
import os
import resource
import shutil
import signal
import socket
import sys
import tempfile
import time
from multiprocessing.context import SpawnProcess
from types import FrameType

import uvicorn
from prometheus_client import multiprocess
from uvicorn.config import STARTUP_FAILURE

from ovp.config import Settings
from ovp.server.accept import HELD_MAX, AcceptingServer
from ovp.server.logs import logging_config
from ovp.server.protocol import ConnectionLimits, OvpHttpProtocol

log = logging.getLogger("ovp")

# File descriptors kept for what is not a client's connection served by the loop: database
# connections, the listening socket, log and SQLite files, and the connections the acceptor holds.
RESERVED_DESCRIPTORS = 64 + HELD_MAX
# uvloop's connect_accepted_socket duplicates the socket it is given and keeps both open.
DESCRIPTORS_PER_CONNECTION = 2
SUPERVISOR_TICK_S = 0.2
# Beyond the shutdown timeout, what a worker may take to close its database and exit.
EXIT_GRACE_S = 5.0
APP = "ovp.api.app:app_from_environment"


def connection_cap(wanted: int) -> int:
    """At most `wanted` connections, and always fewer than the file descriptors the process may open."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    room = (wanted if soft == resource.RLIM_INFINITY
            else min(wanted, (soft - RESERVED_DESCRIPTORS) // DESCRIPTORS_PER_CONNECTION))
    return max(room, 1)


def uvicorn_config(settings: Settings) -> uvicorn.Config:
    limits = ConnectionLimits(head_timeout_s=settings.head_timeout, idle_timeout_s=settings.idle_timeout,
                              body_timeout_s=settings.body_timeout, max_in_flight=settings.max_in_flight,
                              max_connections=connection_cap(settings.max_connections))
    return uvicorn.Config(
        APP,
        factory=True,
        http=functools.partial(OvpHttpProtocol, limits=limits),  # type: ignore[arg-type]
        ws="none",
        # A failure while the app starts stops the server (uvicorn's "auto" would serve on).
        lifespan="on",
        log_config=logging_config(settings.log_format, access_log=settings.access_log),
        access_log=False,
        server_header=False,
        # ovp reads no client address; X-Forwarded-* parsing would only cost every request time.
        proxy_headers=False,
        timeout_keep_alive=math.ceil(limits.idle_timeout_s),
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout),
    )


def listening_socket(host: str, port: int, *, shared: bool) -> socket.socket:
    """A socket bound to host:port; `shared`: with SO_REUSEPORT, for one of several workers."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def serve(settings: Settings) -> int:
    """Serves until stopped; answers the exit status."""
    os.environ.update(settings.to_environment())
    logging.config.dictConfig(logging_config(settings.log_format, access_log=settings.access_log))
    if settings.workers == 1:
        sock = listening_socket(settings.host, settings.port, shared=False)
        log.info("listening on http://%s:%d", settings.host, sock.getsockname()[1])
        server = AcceptingServer(uvicorn_config(settings))
        # uvicorn raises a SIGTERM again once it has shut down, to the handler it found: this one
        # ends the process through Python, so that what the caller cleans up on its way out is.
        signal.signal(signal.SIGTERM, _stop_by_exiting)
        try:
            server.run(sockets=[sock])
        except SystemExit as stopped:
            return int(stopped.code or 0)
        return 0 if server.started else STARTUP_FAILURE
    return Supervisor(settings).run()


def _stop_by_exiting(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _worker(environment: dict[str, str]) -> None:
    """A worker process: serves on a socket of its own until told to stop."""
    os.environ.update(environment)
    settings = Settings.from_environment()
    sock = listening_socket(settings.host, settings.port, shared=True)
    server = AcceptingServer(uvicorn_config(settings))
    server.run(sockets=[sock])
    if not server.started:
        sys.exit(STARTUP_FAILURE)


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._context = multiprocessing.get_context("spawn")
        self._workers: list[SpawnProcess] = []
        self._stopping = False

    def run(self) -> int:
        settings = self.settings
        # The address must be free: a worker's SO_REUSEPORT socket would otherwise share the port
        # with another server of the same user, silently.
        listening_socket(settings.host, settings.port, shared=False).close()
        metrics_dir = tempfile.mkdtemp(prefix="ovp-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        previous = {signum: signal.signal(signum, self._stop) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            self._workers = [self._start() for _ in range(settings.workers)]
            log.info("listening on http://%s:%d with %d workers", settings.host, settings.port, settings.workers)
            return self._supervise()
        finally:
            self._stop_workers()
            for signum, handler in previous.items():
                signal.signal(signum, handler)
            shutil.rmtree(metrics_dir, ignore_errors=True)

    def _start(self) -> SpawnProcess:
        process = self._context.Process(target=_worker, args=(dict(os.environ),), name="ovp-worker")
        process.start()
        return process

    def _stop(self, _signum: int, _frame: FrameType | None) -> None:
        self._stopping = True

    def _supervise(self) -> int:
        while not self._stopping:
            time.sleep(SUPERVISOR_TICK_S)
            for index, process in enumerate(self._workers):
                if process.is_alive() or self._stopping:
                    continue
                if process.exitcode == STARTUP_FAILURE:
                    log.error("a worker could not start: stopping the server")
                    return 1
                log.warning("worker %s exited with status %s: starting another", process.pid, process.exitcode)
                _forget_metrics_of(process.pid)
                self._workers[index] = self._start()
        return 0

    def _stop_workers(self) -> None:
        for process in self._workers:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.settings.shutdown_timeout + EXIT_GRACE_S
        for process in self._workers:
            process.join(max(deadline - time.monotonic(), 0))
            if process.is_alive():
                log.error("worker %s did not stop in time: killed", process.pid)
                process.kill()
                process.join()


def _forget_metrics_of(pid: int | None) -> None:
    if pid is not None:
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
