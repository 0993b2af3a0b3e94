"""ovp's pytest plugin: a real ovp, for tests of code that uses Telnyx.

Installed with ovp, it gives every test suite four fixtures:

- `ovp_server`: one `ovp serve` per test session (per worker under pytest-xdist), serving open
  mode on a free loopback port, with a database of its own, gone when the session ends.
  `ovp_server.base_url` is what to hand a Telnyx SDK (`http://127.0.0.1:PORT/v2`);
  `ovp_server.origin` is the server itself (`http://127.0.0.1:PORT`).
- `ovp_token`: a bearer token of the test's own, so each test is an account of its own and sees
  only its own data.
- `ovp_client`: a `telnyx.Telnyx` client bound to that server and token (it needs the `telnyx`
  package, which a suite that tests Telnyx code has).
- `ovp_admin`: the emulator's admin surface for the test's account: reset, seed, faults, journal,
  and the server's clock.

    def test_office_profile(ovp_client):
        profile = ovp_client.outbound_voice_profiles.create(name="office")
        assert ovp_client.outbound_voice_profiles.retrieve(profile.data.id).data.name == "office"

Importing the plugin loads none of ovp's application: pytest imports it wherever ovp is installed,
so a suite that never asks for these fixtures pays nothing for them.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    import telnyx

HOST = "127.0.0.1"
START_TIMEOUT_S = 15.0
ADMIN = "/_ovp/admin"


@dataclass(frozen=True)
class OvpServer:
    port: int

    @property
    def origin(self) -> str:
        """The server itself: http://127.0.0.1:PORT (the admin surface, /docs, /healthz)."""
        return f"http://{HOST}:{self.port}"

    @property
    def base_url(self) -> str:
        """What to hand a Telnyx SDK as its base URL: http://127.0.0.1:PORT/v2."""
        return f"{self.origin}/v2"


class OvpAdmin:
    """The emulator's admin surface for one account (a bearer token), as typed calls."""

    def __init__(self, server: OvpServer, token: str) -> None:
        self.server = server
        self.token = token
        self.clock_moved = False

    def reset(self, *, everything: bool = False) -> int:
        """Deletes the account's profiles, connections, rates and calls (every account's with
        `everything`), its journal and its faults; answers how many profiles went."""
        deleted: int = self._call("POST", "/reset", query={"scope": "all" if everything else "account"})[
            "deleted_profiles"]
        return deleted

    def seed(self, source: Path | str | Mapping[str, Any]) -> dict[str, int]:
        """Loads a seed (a file's path, or the document itself: {"data": [profile, ...],
        "credential_connections": [...]}), ids kept; answers how many of each were loaded."""
        document = json.loads(Path(source).read_text()) if isinstance(source, (Path, str)) else dict(source)
        loaded: dict[str, int] = self._call("POST", "/seed", body=document)
        return loaded

    def arm_fault(self, *, method: str = "*", path: str = "/v2/*", status: Literal[429, 500, 503] | None = None,
                  times: int = 1, delay_ms: int = 0) -> dict[str, Any]:
        """The next `times` requests of the account that match `method` and `path` (a glob) fail
        with `status`, or answer `delay_ms` late."""
        fault: dict[str, Any] = self._call("POST", "/faults", body={
            "method": method, "path": path, "status": status, "times": times, "delay_ms": delay_ms})
        return fault

    def faults(self) -> list[dict[str, Any]]:
        armed: list[dict[str, Any]] = self._call("GET", "/faults")
        return armed

    def clear_faults(self) -> int:
        cleared: int = self._call("DELETE", "/faults")["cleared"]
        return cleared

    def journal(self) -> list[dict[str, Any]]:
        """What the account asked, oldest first: method, path, query, body (as sent), status, time."""
        entries: list[dict[str, Any]] = self._call("GET", "/journal")
        return entries

    def clear_journal(self) -> int:
        cleared: int = self._call("DELETE", "/journal")["cleared"]
        return cleared

    def freeze_clock(self, now: str) -> str:
        """Stops ovp's clock at `now` (RFC 3339, such as 2026-12-31T23:59:50Z): every rule bound to
        time reads it (a day's spend, calling windows, a call's expiry and set-up timeout,
        created_at and updated_at). The server's own clock, not the account's: answers ovp's time."""
        self.clock_moved = True
        moved: str = self._call("POST", "/clock", body={"now": now})["now"]
        return moved

    def advance_clock(self, seconds: float) -> str:
        """Moves ovp's clock on by `seconds` (frozen or not); answers ovp's time."""
        self.clock_moved = True
        moved: str = self._call("POST", "/clock", body={"advance_secs": seconds})["now"]
        return moved

    def reset_clock(self) -> str:
        """Returns ovp's clock to the wall clock; answers ovp's time."""
        moved: str = self._call("DELETE", "/clock")["now"]
        self.clock_moved = False
        return moved

    def _call(self, method: str, path: str, *, body: object = None, query: Mapping[str, str] | None = None) -> Any:
        url = f"{self.server.origin}{ADMIN}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        request = urllib.request.Request(url, method=method, headers={  # noqa: S310 (a URL of our own, http)
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        data = None if body is None else json.dumps(body).encode()
        with urllib.request.urlopen(request, data=data, timeout=30) as answer:  # noqa: S310
            return json.loads(answer.read())["data"]


@pytest.fixture(scope="session")
def ovp_server() -> Iterator[OvpServer]:
    port = _free_port()
    # Its log goes to a file, not a pipe, so that nothing it writes can ever block it.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "ovp", "serve", "--auth", "open", "--host", HOST, "--port", str(port),
             "--no-access-log"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            env={name: value for name, value in os.environ.items() if not name.startswith("OVP_")},
        )
        server = OvpServer(port)
        try:
            _wait_serving(server, process, log)
            yield server
        finally:
            process.terminate()
            try:
                process.wait(timeout=START_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_serving(server: OvpServer, process: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            said = log.read().decode(errors="replace").strip()
            raise RuntimeError(f"ovp serve exited with status {process.returncode}: {said}")
        try:
            with urllib.request.urlopen(f"{server.origin}/healthz", timeout=1) as answer:  # noqa: S310
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"ovp serve did not answer within {START_TIMEOUT_S:g} s")


@pytest.fixture
def ovp_token(request: pytest.FixtureRequest) -> str:
    """In open mode each token is an account: this test's own."""
    return f"test-{request.node.name[:40]}-{secrets.token_hex(6)}"


@pytest.fixture
def ovp_client(ovp_server: OvpServer, ovp_token: str) -> Iterator[telnyx.Telnyx]:
    import telnyx  # the suite's dependency, not ovp's: a suite that tests Telnyx code has it

    with telnyx.Telnyx(api_key=ovp_token, base_url=ovp_server.base_url) as client:
        yield client


@pytest.fixture
def ovp_admin(ovp_server: OvpServer, ovp_token: str) -> Iterator[OvpAdmin]:
    """The admin surface for the test's account (the one `ovp_client` uses). A clock the test
    moved is back on the wall clock after it, for the session's next test."""
    admin = OvpAdmin(ovp_server, ovp_token)
    yield admin
    if admin.clock_moved:
        admin.reset_clock()
