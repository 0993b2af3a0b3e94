"""`ovp serve`: Granian, a Rust HTTP server, runs ovp's ASGI app in worker processes, through its
public options only; this process supervises them (a worker that dies is started again) and, with
`--admin-port`, answers the admin listener's probes (see ovp.admin).

What ovp's settings ask of the server, and who holds it:
- Granian: a request's head must arrive whole within `--idle-timeout` of the connection's opening or
  its last answer (idle keep-alive connections and slow heads close alike); a head over HEAD_BYTES
  is a 431; `--max-connections` a worker serves at once; on SIGTERM, workers finish their requests
  and are killed past `--shutdown-timeout`.
- the app (ovp.api.app): a URL over 8 KiB (414), a method no route knows (405), a body too slow
  (408), requests in progress past `--max-in-flight` (503), each in Telnyx's envelope.
- the nginx configuration the docs give: the idlest connections closed to make room, and a 431 in
  Telnyx's envelope."""

from __future__ import annotations

import errno
import logging
import multiprocessing
import os
import resource
import socket
import tempfile
from pathlib import Path
from typing import Any

from granian import Granian
from granian.constants import HTTPModes, Interfaces, Loops, RuntimeModes
from granian.http import HTTP1Settings
from granian.log import LogLevels

from ovp.admin.listener import AdminListener
from ovp.config import Settings, environment_variable
from ovp.processes.logs import logging_config
from ovp.processes.parent import SERVER_VARIABLE
from ovp.processes.sender import SenderProcess
from ovp.server.worker import STATES_VARIABLE
from ovp.store.backends import is_memory_sqlite

log = logging.getLogger("ovp")

WORKER_APP = "ovp.server.worker:app"
# A request's line and headers at most; past it, 431 (Granian's read buffer).
HEAD_BYTES = 64 * 1024
# File descriptors kept for what is not a client's connection: database connections, the
# listening socket, log and SQLite files.
RESERVED_DESCRIPTORS = 64


class ServeError(Exception):
    """The server cannot serve: one line that says why and what to do."""


def connection_cap(wanted: int) -> int:
    """At most `wanted` connections, and always fewer than the file descriptors the process may open."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    room = wanted if soft == resource.RLIM_INFINITY else min(wanted, soft - RESERVED_DESCRIPTORS)
    return max(room, 1)


def granian_options(settings: Settings) -> dict[str, Any]:
    """Granian's options for ovp's settings (Granian(WORKER_APP, **options))."""
    return dict(
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=settings.workers,
        # One Python thread and one Rust thread a worker: measured best on two cores.
        runtime_mode=RuntimeModes.st,
        loop=Loops.uvloop,
        http=HTTPModes.http1,
        websockets=False,
        # Granian's backpressure is the number of connections a worker serves at once: past it, a
        # new one waits in the listening socket's queue until one closes.
        backpressure=connection_cap(settings.max_connections),
        http1_settings=HTTP1Settings(header_read_timeout=round(settings.idle_timeout * 1000), keep_alive=True,
                                     max_buffer_size=HEAD_BYTES),
        log_level=LogLevels.warning,
        log_dictconfig=logging_config(settings.log_format, access_log=settings.access_log),
        log_access=False,  # ovp writes its own, with the account and the request id
        respawn_failed_workers=True,
        workers_kill_timeout=settings.shutdown_seconds,
    )


def serve(settings: Settings) -> int:
    """Serves until stopped; answers the exit status."""
    # Workers start from a fresh interpreter: forking this process would copy its threads' state.
    multiprocessing.set_start_method("spawn", force=True)
    with tempfile.TemporaryDirectory(prefix="ovp-metrics-") as metrics, \
            tempfile.TemporaryDirectory(prefix="ovp-workers-") as worker_states:
        os.environ.update(settings.to_environment())
        os.environ[SERVER_VARIABLE] = str(os.getpid())
        # Each worker writes its samples there, and /metrics sums them (prometheus-client's
        # multiprocess mode), whichever process answers the scrape.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics
        server = Granian(WORKER_APP, **granian_options(settings))
        # Webhooks are sent by a process of their own, unless the database is in memory (then the
        # one worker's own, which nothing else can open, sends them).
        if settings.send_webhooks and not is_memory_sqlite(settings.database_url):
            os.environ[environment_variable("send_webhooks")] = "false"  # the workers' own senders
            sender = SenderProcess(settings)
            server.on_startup(sender.start)
            server.on_shutdown(sender.close)
        if settings.admin_port is not None:
            os.environ[STATES_VARIABLE] = worker_states
            admin = _admin_listener(settings, Path(worker_states), Path(metrics))
            server.on_startup(admin.start)
            server.on_shutdown(admin.close)
        log.info("listening on http://%s:%d with %d worker%s%s", settings.host, settings.port, settings.workers,
                 "s" if settings.workers > 1 else "",
                 "" if settings.admin_port is None else f"; admin listener on http://{settings.host}:"
                                                        f"{settings.admin_port}")
        try:
            server.serve()
        except SystemExit as stopped:
            return int(stopped.code or 0)
        except RuntimeError as error:  # Granian's bind, when another process took the port since the check
            raise ServeError(f"cannot listen on {settings.host}:{settings.port} for the API ({error}): give --port "
                             "another port") from None
        return 0


def check_addresses(settings: Settings) -> None:
    """Raises ServeError, in one line, unless the API port and the admin port can be listened on
    (the moment between this check and the server's own bind is the only room left for a race)."""
    ports = [("the API", settings.port, "--port")]
    if settings.admin_port is not None:
        if settings.admin_port == settings.port:
            raise ServeError(f"--admin-port {settings.admin_port} is --port too: give the admin listener another port")
        ports.append(("the admin listener", settings.admin_port, "--admin-port"))
    for what, port, flag in ports:
        family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
        try:
            with socket.socket(family, socket.SOCK_STREAM) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                probe.bind((settings.host, port))
        except OSError as error:
            raise ServeError(_cannot_listen(settings.host, port, what, flag, error)) from None


def _cannot_listen(host: str, port: int, what: str, flag: str, error: OSError) -> str:
    reason = error.strerror or str(error)
    hint = (f"another process listens there (`ss -ltnp 'sport = :{port}'` names it): stop it, or give {flag} "
            "another port") if error.errno == errno.EADDRINUSE else f"check --host and {flag}"
    return f"cannot listen on {host}:{port} for {what} ({reason.lower()}): {hint}"


def _admin_listener(settings: Settings, worker_states: Path, metrics: Path) -> AdminListener:
    assert settings.admin_port is not None
    try:
        return AdminListener(settings.host, settings.admin_port, settings.workers, worker_states, metrics)
    except OSError as error:
        raise ServeError(_cannot_listen(settings.host, settings.admin_port, "the admin listener", "--admin-port",
                                        error)) from None
