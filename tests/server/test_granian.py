"""What ovp relies on in its HTTP server, Granian, configured as `ovp serve` configures it
(ovp.server.run.granian_options), checked on a tiny app: a change of behaviour in a new release
fails here first. ovp's own answers to the same clients are tested in tests/e2e/test_hostile_clients.py."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import HOST, free_port
from tests.e2e.test_hostile_clients import _answer, _closed_within

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).parents[2]
IDLE_S = 1
SHUTDOWN_S = 2


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]
    notes: Path

    def connect(self) -> socket.socket:
        return socket.create_connection((HOST, self.port), timeout=10)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    port = free_port()
    notes = tmp_path / "notes"
    script = (
        "from granian import Granian\n"
        "from ovp.config import Settings\n"
        "from ovp.server.run import granian_options\n"
        f"options = granian_options(Settings(port={port}, idle_timeout={IDLE_S}, shutdown_timeout={SHUTDOWN_S}))\n"
        "options.update(factory=False, log_dictconfig=None)\n"
        "Granian('tests.server.echo:app', **options).serve()\n"
    )
    # A session of its own: the test stops Granian's worker with it (see _stop).
    process = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env={"ECHO_NOTES": str(notes), "PATH": ""},
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    served = Served(port, process, notes)
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(f"http://{HOST}:{port}/", timeout=1)
            break
        except httpx.TransportError:
            assert process.poll() is None, "Granian exited"
            assert time.monotonic() < deadline, "Granian did not start"
            time.sleep(0.05)
    yield served
    _stop(process)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as a service manager stops it (Granian then stops its worker), then SIGKILL to what
    is left of the session this test started: a worker whose Granian was killed outright would live
    on, orphaned, still listening."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=SHUTDOWN_S + 5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def test_idle_connections_and_slow_heads_close_after_the_header_read_timeout(served: Served) -> None:
    with served.connect() as idle:
        assert _closed_within(idle, 5) < IDLE_S + 1
    with served.connect() as slow:
        slow.sendall(b"GET / HTTP/1.1\r\n")
        assert _closed_within(slow, 5) < IDLE_S + 1
    with served.connect() as kept:
        kept.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(kept)[0] == 200
        assert _closed_within(kept, 5) < IDLE_S + 1


def test_a_head_over_the_buffer_is_a_431_and_closes(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (70 * 1024))
        status, headers, _body = _answer(sock)
    assert (status, headers["connection"]) == (431, "close")


def test_a_method_the_server_does_not_know_reaches_the_app(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"FROB / HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _headers, body = _answer(sock)
    assert (status, json.loads(body)["method"]) == (200, "FROB")


def test_a_body_cut_short_is_a_disconnect_to_the_app(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{}")
    deadline = time.monotonic() + 5
    while not (served.notes.exists() and served.notes.read_text() == "disconnect\n"):
        assert time.monotonic() < deadline, "the app was not told of the disconnect"
        time.sleep(0.05)


def test_an_answer_with_connection_close_closes_the_connection(served: Served) -> None:
    with served.connect() as sock:
        sock.sendall(b"POST /close HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
        assert _answer(sock)[0] == 200
        assert _closed_within(sock, 5) < 1


def test_sigterm_finishes_the_request_in_progress_and_ends_in_time(served: Served) -> None:
    answered: list[int] = []
    slow = threading.Thread(target=lambda: answered.append(
        httpx.get(f"http://{HOST}:{served.port}/slow", timeout=10).status_code))
    slow.start()
    time.sleep(0.3)
    began = time.monotonic()
    served.process.send_signal(signal.SIGTERM)
    served.process.wait(timeout=SHUTDOWN_S + 5)
    slow.join(timeout=5)
    assert answered == [200]
    assert time.monotonic() - began < SHUTDOWN_S + 2
