"""The probes on raw sockets against a real `ovp serve`, on the API port: each answer whole and
correct, a connection that asked for its close closed, and a connection that began with probes
serving any request after them, in order."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.servers import HOST, PROFILES, OvpServer, launch
from tests.e2e.test_hostile_clients import _answer, _closed_within

pytestmark = pytest.mark.e2e

TOKEN = "probes"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvpServer]:
    workdir: Path = tmp_path_factory.mktemp("probes")
    running = launch(workdir, f"sqlite:///{workdir / 'ovp.db'}", auth="open")
    yield running
    running.stop()


def _connect(server: OvpServer) -> socket.socket:
    return socket.create_connection((HOST, server.port), timeout=10)


def _get(path: str, headers: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n{headers}\r\n".encode()


def test_a_probe_that_asks_for_its_close_is_answered_and_its_connection_closed(server: OvpServer) -> None:
    with _connect(server) as sock:
        sock.sendall(_get("/healthz", "Connection: close\r\nX-Request-Id: probe-1\r\n"))
        status, headers, body = _answer(sock)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        assert headers["connection"] == "close"
        assert headers["x-request-id"] == "probe-1"
        assert _closed_within(sock, 5) < 2


def test_a_connection_that_began_with_probes_serves_any_request_after_them(server: OvpServer) -> None:
    with _connect(server) as sock:
        for _ in range(3):
            sock.sendall(_get("/healthz"))
            status, headers, body = _answer(sock)
            assert (status, json.loads(body)) == (200, {"status": "ok"})
            assert "connection" not in headers  # kept open
        sock.sendall(_get(PROFILES))
        status, _headers, body = _answer(sock)
        assert status == 200
        assert json.loads(body)["meta"]["page_number"] == 1
        sock.sendall(_get("/healthz"))
        assert _answer(sock)[0] == 200


class _Answers:
    """Reads the answers to pipelined requests one after another, from one connection."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._data = b""

    def _at_least(self, size: int) -> None:
        while len(self._data) < size:
            chunk = self._sock.recv(65536)
            assert chunk, f"closed early: {self._data!r}"
            self._data += chunk

    def next(self) -> tuple[int, bytes]:
        while b"\r\n\r\n" not in self._data:
            self._at_least(len(self._data) + 1)
        head, self._data = self._data.split(b"\r\n\r\n", 1)
        length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        self._at_least(length)
        body, self._data = self._data[:length], self._data[length:]
        return int(head.split(b" ")[1]), body


def test_probes_pipelined_with_a_request_are_answered_in_order(server: OvpServer) -> None:
    with _connect(server) as sock:  # the database just served: /readyz could be answered at once
        sock.sendall(_get(PROFILES))
        assert _Answers(sock).next()[0] == 200
        sock.sendall(_get("/healthz") + _get(PROFILES + "?page[size]=1") + _get("/readyz"))
        answers = _Answers(sock)
        assert json.loads(answers.next()[1]) == {"status": "ok"}
        listed = answers.next()
        assert json.loads(listed[1])["meta"]["page_size"] == 1, listed
        assert json.loads(answers.next()[1]) == {"status": "ready"}


def test_a_head_probe_is_answered_without_a_body(server: OvpServer) -> None:
    with _connect(server) as sock:
        # Had the HEAD's answer carried a body, the GET's answer would not start where it must.
        sock.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n" + _get("/healthz"))
        data = b""
        while not data.endswith(b'{"status":"ok"}'):
            chunk = sock.recv(65536)
            assert chunk, f"closed early: {data!r}"
            data += chunk
        head_answer, get_answer = data.split(b"\r\n\r\n", 1)
        assert head_answer.startswith(b"HTTP/1.1 200 ")
        assert b"content-length: 15" in head_answer
        assert get_answer.startswith(b"HTTP/1.1 200 ")


def test_a_probe_with_a_body_and_a_broken_head_take_the_usual_course(server: OvpServer) -> None:
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}" + _get("/healthz"))
        answers = _Answers(sock)
        assert answers.next() == answers.next() == (200, b'{"status":"ok"}')
    with _connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nBroken\r\n\r\n")
        assert _answer(sock)[0] == 400
