"""Real `ovp` processes for the end-to-end tests: `ovp serve` on 127.0.0.1 on a free port, and the
one-shot `ovp keys` commands.

Every command runs the `ovp` console script installed next to the running interpreter. A server is
ready once it answers `GET /healthz`, and is stopped by its own PID: SIGTERM, then SIGKILL if need be.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import httpx
import pytest
import telnyx

OVP = Path(sys.executable).with_name("ovp")
HOST = "127.0.0.1"
READY_TIMEOUT = 15.0
STOP_TIMEOUT = 10.0
PROFILES = "/v2/outbound_voice_profiles"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def child_processes(pid: int) -> list[int]:
    """The processes `pid` started that still run (a server's workers)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
            children.extend(int(child) for child in (task / "children").read_text().split())
    return children


def clean_environment() -> dict[str, str]:
    """The test process's environment without OVP_* or TELNYX_* variables, so only our flags count."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("OVP_", "TELNYX_"))
    }


def run_ovp(*args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Runs a one-shot `ovp` command (not `serve`) and returns its result, whatever its exit status."""
    return subprocess.run(
        [str(OVP), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=clean_environment(),
        check=False,
    )


@dataclass
class OvpServer:
    """One running `ovp serve` process."""

    port: int
    database_url: str
    auth: str
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.origin}/v2"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def client(self, api_key: str) -> telnyx.Telnyx:
        """The official SDK exactly as a user would configure it, only the base URL changed."""
        return telnyx.Telnyx(api_key=api_key, base_url=self.base_url, max_retries=0, timeout=10.0)

    def async_client(self, api_key: str) -> telnyx.AsyncTelnyx:
        """The official async SDK, configured as `client` is."""
        return telnyx.AsyncTelnyx(api_key=api_key, base_url=self.base_url, max_retries=0, timeout=10.0)

    def http(self, api_key: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.origin, headers={"Authorization": f"Bearer {api_key}"}, timeout=10.0
        )

    def stop(self) -> int:
        """SIGTERM by PID, wait, then SIGKILL if it will not go. Returns the exit status."""
        try:
            if self.process.poll() is None:
                self.process.terminate()  # SIGTERM to this process's PID only
                try:
                    self.process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=STOP_TIMEOUT)
            return self.process.returncode
        finally:
            self._log.close()

    def wait_ready(self) -> str | None:
        """Polls GET /healthz until it answers 200 from this very process (its log says it is
        listening on our port, so a stranger that grabbed the port cannot pass for it).
        Returns None when ready, else why not."""
        listening = f"listening on {self.origin}"
        deadline = time.monotonic() + READY_TIMEOUT
        last = "no attempt yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"it exited with status {self.process.returncode} before it was ready"
            try:
                response = httpx.get(f"{self.origin}/healthz", timeout=1.0)
            except httpx.TransportError as error:
                last = repr(error)
            else:
                if response.status_code == 200 and listening in self.log():
                    return None
                last = f"HTTP {response.status_code}: {response.text}"
            time.sleep(0.05)
        return f"it was not ready within {READY_TIMEOUT} s (last: {last})"


class StartServer(Protocol):
    """The `start_server` fixture: starts a server owned by the test (on the test's database by default)."""

    def __call__(self, *, auth: str = "open", database_url: str | None = None) -> OvpServer: ...

PORT_ATTEMPTS = 3


def launch(log_dir: Path, url: str | None, *, auth: str = "open", extra: Sequence[str] = (),
           preexec: Callable[[], None] | None = None, env: dict[str, str] | None = None,
           cwd: Path | None = None) -> OvpServer:
    """Starts `ovp serve` on a free port and returns once it is ready; fails the test, with the
    server's output, if it does not come up (a port taken between our probe and its bind is retried).
    `url` None: no --database (the default for the mode), in `cwd`."""
    for attempt in range(1, PORT_ATTEMPTS + 1):
        port = free_port()
        log_path = log_dir / f"ovp-serve-{port}-{time.monotonic_ns()}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [str(OVP), "serve", "--host", HOST, "--port", str(port), *(["--database", url] if url else []),
             "--auth", auth, *extra],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**clean_environment(), **(env or {})},
            preexec_fn=preexec,
        )
        server = OvpServer(
            port=port, database_url=url or "(the mode's own)", auth=auth, process=process, log_path=log_path, _log=log
        )
        try:
            problem = server.wait_ready()
        except BaseException:
            server.stop()
            raise
        if problem is None:
            return server
        server.stop()
        output = server.log()
        if "address already in use" in output.lower() and attempt < PORT_ATTEMPTS:
            continue
        pytest.fail(f"ovp serve (pid {server.pid}, port {port}, {url}): {problem}; its output:\n{output}")
    raise AssertionError("unreachable")


def launch_in(directory: Path, *args: str) -> OvpServer:
    """`ovp serve` as a user starts it in `directory`, with only `args` (open mode, say) and no --database."""
    auth = args[args.index("--auth") + 1] if "--auth" in args else "keys"
    rest = [arg for index, arg in enumerate(args) if arg != "--auth" and (index == 0 or args[index - 1] != "--auth")]
    return launch(directory, None, auth=auth, extra=rest, cwd=directory)
