"""The admin listener (`--admin-port`): /healthz, /readyz and /metrics for the whole server, from a
thread of the server's main process, which serves no API request: no load on the API port can keep
a probe waiting (Python's threading HTTP server, a thread a connection).

- `/healthz` is 200 while every worker's event loop turns (each writes its state every half second,
  see ovp.admin.states), 503 once one has stalled or none runs.
- `/readyz` is 200 while every worker runs and its database serves, 503 otherwise, with the cause.
- `/metrics` is every worker's samples, summed (prometheus-client's multiprocess mode).
Each answer lists the workers: their process id, how long ago their loop turned, and readiness.
"""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from ovp.admin import states

log = logging.getLogger("ovp")

# Seconds a probe's connection may take to send its request: a silent client holds no thread long.
REQUEST_TIMEOUT_S = 5.0


class AdminListener:
    """Serves the admin paths on host:port from a thread of its own until closed."""

    def __init__(self, host: str, port: int, workers: int, states_directory: Path, metrics_directory: Path) -> None:
        self.workers = workers
        self.states_directory = states_directory
        self.metrics_directory = metrics_directory
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="ovp-admin", daemon=True)

    @property
    def port(self) -> int:
        port: int = self._server.server_address[1]
        return port

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def health(self) -> tuple[int, dict[str, Any]]:
        found = states.read_all(self.states_directory)
        now = states.now()
        stalled = [state.pid for state in found if state.stalled(now)]
        status = "ok" if found and not stalled else "stalled" if stalled else "starting"
        return (200 if status == "ok" else 503), {"status": status, **self._workers(found, now)}

    def readiness(self) -> tuple[int, dict[str, Any]]:
        found = states.read_all(self.states_directory)
        now = states.now()
        causes = [state.cause or "unavailable" for state in found if not state.ready or state.stalled(now)]
        if len(found) < self.workers:
            causes.append("starting")
        if not causes:
            return 200, {"status": "ready", **self._workers(found, now)}
        return 503, {"status": "unavailable", "cause": causes[0], **self._workers(found, now)}

    def _workers(self, found: list[states.WorkerState], now: float) -> dict[str, Any]:
        return {"workers": [{"pid": state.pid, "beat_age_ms": round((now - state.beat) * 1000),
                             "ready": state.ready, "cause": state.cause} for state in found],
                "expected_workers": self.workers}

    def metrics(self) -> bytes:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.metrics_directory))  # type: ignore[no-untyped-call]
        return generate_latest(registry)


def _handler_for(listener: AdminListener) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = REQUEST_TIMEOUT_S
        protocol_version = "HTTP/1.1"
        # An answer goes out in one write, flushed at its end: written a header at a time, a kept
        # connection's answers waited on the client's delayed acknowledgement (42 ms each, measured).
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            self._answer(include_body=True)

        def do_HEAD(self) -> None:
            self._answer(include_body=False)

        def _answer(self, *, include_body: bool) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, listener.metrics(), CONTENT_TYPE_LATEST, include_body)
                return
            if path in ("/healthz", "/readyz"):
                status, body = listener.health() if path == "/healthz" else listener.readiness()
            else:
                status, body = 404, {"status": "not found", "paths": ["/healthz", "/readyz", "/metrics"]}
            self._send(status, orjson.dumps(body), "application/json", include_body)

        def _send(self, status: int, body: bytes, media_type: str, include_body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", media_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if include_body:
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Probes come every few seconds: their lines would drown the log."""

    return Handler
