"""Start and stop the `ovp serve` under test.

The server runs in its own session (process group) so that Ctrl-C in the terminal reaches
only the harness, which then stops the server deliberately; stopping signals that group by
the PID we started, so the server's worker processes go too and nothing else is touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from bench.client import Client
from bench.scenarios import Request
from ovp.config import Settings

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 10.0


class ServerError(RuntimeError):
    """The server could not be started; the message carries the end of its log."""


@dataclass(frozen=True)
class RunningServer:
    host: str
    port: int
    pid: int
    log_path: Path
    admin_port: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def ovp_executable() -> Path:
    """The console script installed beside this interpreter, so the venv's ovp is measured."""
    path = Path(sys.executable).with_name("ovp")
    if not path.exists():
        raise ServerError(f"{path} does not exist; install the project (make install) first")
    return path


def free_port() -> int:
    """A port free right now; the short race before the server binds it is reported, not hidden."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_answering(name: str, process: subprocess.Popen[bytes], client: Client, probe: Request,
                   log_path: Path | None = None) -> None:
    """Returns once `probe` is answered 2xx; a ServerError if the process exits or stays silent."""
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    log = log_tail(log_path) if log_path is not None else "(its output was not kept)"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerError(f"{name} exited with status {process.returncode}:\n{log}")
        try:
            if client.send(probe).ok:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise ServerError(f"{name} did not answer {probe.path} within {START_TIMEOUT_SECONDS:.0f} s:\n{log}")


def _wait_healthy(process: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
    with Client(HOST, port) as client:
        wait_answering("ovp serve", process, client, Request("GET", "/healthz", {}), log_path)


def _signal_group(pid: int, signum: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pid, signum)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM lets the server close its workers cleanly; SIGKILL after a bound keeps the run bounded."""
    _signal_group(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT_SECONDS)
    # Any worker that outlived the supervisor is still in the group: make sure it is gone.
    _signal_group(process.pid, signal.SIGKILL)


def _uvicorn(database_url: str, workers: int, port: int, metrics_dir: Path) -> tuple[list[str], dict[str, str]]:
    """ovp's worker app on uvicorn, through uvicorn's public options, as `ovp serve` would serve it
    there (the same settings, read from the environment): to compare the two servers."""
    subprocess.run([str(ovp_executable()), "db", "upgrade", "--database", database_url], check=True,
                   capture_output=True)
    settings = Settings(host=HOST, port=port, database_url=database_url, auth="open", workers=workers)
    command = [sys.executable, "-m", "uvicorn", "bench.uvicorn_app:app", "--factory", "--host", HOST, "--port",
               str(port), "--workers", str(workers), "--loop", "uvloop", "--http", "httptools", "--no-access-log",
               "--no-server-header", "--no-proxy-headers", "--timeout-keep-alive", f"{settings.idle_timeout:g}",
               "--timeout-graceful-shutdown", str(settings.shutdown_seconds), "--log-level", "warning"]
    return command, {**settings.to_environment(), "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}


@contextmanager
def running_server(
    database_url: str, workers: int, workdir: Path, extra: Sequence[str] = (), *, admin: bool = False,
    server: str = "granian",
) -> Iterator[RunningServer]:
    """Yields a healthy server (`extra`: more flags of `ovp serve`; `admin`: with an admin listener
    on a port of its own; `server`: uvicorn instead of `ovp serve`, to compare), and stops it on the
    way out whatever happened inside."""
    port = free_port()
    admin_port = free_port() if admin else None
    if admin_port is not None:
        extra = (*extra, "--admin-port", str(admin_port))
    log_path = workdir / "ovp.log"
    command = [
        str(ovp_executable()), "serve",
        "--host", HOST,
        "--port", str(port),
        "--database", database_url,
        "--auth", "open",
        "--workers", str(workers),
        *extra,
    ]  # fmt: skip
    environment = dict(os.environ)
    if server == "uvicorn":
        metrics_dir = workdir / "metrics"
        metrics_dir.mkdir(exist_ok=True)
        command, settings = _uvicorn(database_url, workers, port, metrics_dir)
        environment.update(settings)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env=environment,
        )
    try:
        _wait_healthy(process, port, log_path)
        yield RunningServer(HOST, port, process.pid, log_path, admin_port)
    finally:
        _stop(process)
