"""Careless and hostile clients, on raw sockets against a real `ovp serve`: a request is applied only
if it arrived whole, every limit and timeout holds and is answered in Telnyx's envelope where HTTP
still allows an answer, and a flood of idle sockets never locks a client out."""

from __future__ import annotations

import json
import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.nginx import NGINX, Proxy, nginx_in_front
from tests.e2e.servers import HOST, PROFILES, OvpServer, launch

pytestmark = pytest.mark.e2e

TOKEN = "hostile"
CALLS = "/ovp/call_authorizations"
FAST = ("--body-timeout", "1", "--idle-timeout", "1")


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[OvpServer]:
    """A server with one-second idle (and head) and body timeouts."""
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open", extra=FAST)
    yield server
    server.stop()


@pytest.fixture
def proxied(quick: OvpServer, tmp_path: Path) -> Iterator[Proxy]:
    """That server behind nginx, configured as the docs ship it: it holds the limits ovp leaves to it."""
    if NGINX is None:
        pytest.skip("nginx is not installed (make install installs it when it runs as root)")
    with nginx_in_front(tmp_path, quick.port) as proxy:
        yield proxy


def _connect(server: OvpServer | Proxy) -> socket.socket:
    return socket.create_connection((HOST, server.port), timeout=10)


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """Reads one answer (status, headers, body) on a connection the server then closes or keeps."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer: {data!r}")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    while len(body) < int(headers.get("content-length", "0")):
        body += sock.recv(65536)
    return int(lines[0].split(" ")[1]), headers, body


def _closed_within(sock: socket.socket, seconds: float) -> float:
    """How long the server took to close the connection (which must happen within `seconds`)."""
    began = time.monotonic()
    sock.settimeout(seconds)
    while sock.recv(65536):
        pass
    return time.monotonic() - began


def _envelope(body: bytes, code: str = "10015") -> dict[str, object]:
    error: dict[str, object] = json.loads(body)["errors"][0]
    assert error["code"] == code
    return error


def _request(method: str, path: str, body: bytes = b"", headers: str = "", length: int | None = None) -> bytes:
    size = len(body) if length is None else length
    return (f"{method} {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n{headers}\r\n").encode() + body


def test_a_body_shorter_than_its_length_is_never_applied(quick: OvpServer) -> None:
    with quick.http(TOKEN) as client:
        profile = client.post(PROFILES, json={"name": "office", "concurrent_call_limit": 2}).json()["data"]
        client.put("/ovp/rates", content="prefix,rate\n1,0.01\n", headers={"Content-Type": "text/csv"})
        whole = json.dumps({"name": "half sent"}).encode()
        with _connect(quick) as sock:  # a complete JSON object, but fewer bytes than announced; then gone
            sock.sendall(_request("PATCH", f"{PROFILES}/{profile['id']}", whole, length=len(whole) + 50))
        call = json.dumps({"outbound_voice_profile_id": profile["id"], "to": "+14155552671",
                           "from": "+12025550100"}).encode()
        for _ in range(2):
            with _connect(quick) as sock:
                sock.sendall(_request("POST", CALLS, call, length=len(call) + 10))
        time.sleep(0.3)
        assert client.get(f"{PROFILES}/{profile['id']}").json()["data"]["name"] == "office"
        usage = client.get(f"/ovp/outbound_voice_profiles/{profile['id']}/usage").json()["data"]
        assert usage["active_calls"] == 0
        allowed = client.post(CALLS, content=call, headers={"Content-Type": "application/json"}).json()["data"]
        assert allowed["decision"] == "allowed"
    dropped = [line for line in quick.log().splitlines() if "ovp.access" in line and " 499 " in line]
    assert [line.split("] ")[1].split(" ")[0] for line in dropped] == ["PATCH", "POST", "POST"]  # logged, not applied


def test_a_body_sent_in_pieces_is_applied_whole_and_its_connection_serves_the_next(quick: OvpServer) -> None:
    # The body is read up to its declared length and no further: the connection is then ready for
    # its next request.
    with quick.http(TOKEN) as client:
        profile = client.post(PROFILES, json={"name": "office"}).json()["data"]
    path = f"{PROFILES}/{profile['id']}"
    request = _request("PATCH", path, json.dumps({"name": "sent in two pieces"}).encode())
    with _connect(quick) as sock:
        sock.sendall(request[:-7])
        time.sleep(0.3)
        sock.sendall(request[-7:])
        status, headers, body = _answer(sock)
        assert (status, json.loads(body)["data"]["name"]) == (200, "sent in two pieces")
        assert headers.get("connection") != "close"
        sock.sendall(_request("PATCH", path, json.dumps({"name": "then another"}).encode()))
        status, _, body = _answer(sock)
        assert (status, json.loads(body)["data"]["name"]) == (200, "then another")
        sock.sendall(_request("GET", path))
        status, _, body = _answer(sock)
        assert (status, json.loads(body)["data"]["name"]) == (200, "then another")


def test_a_chunked_body_is_read_to_its_end_whatever_length_it_also_declares(quick: OvpServer) -> None:
    with quick.http(TOKEN) as client:
        profile = client.post(PROFILES, json={"name": "office"}).json()["data"]
    first, rest = b'{"name": "pre', b'fix"}'  # the first chunk alone, the declared length, is no JSON
    head = (f"PATCH {PROFILES}/{profile['id']} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(first)}\r\n"
            "Transfer-Encoding: chunked\r\n\r\n").encode()
    with _connect(quick) as sock:
        sock.sendall(head + f"{len(first):x}\r\n".encode() + first + b"\r\n")
        time.sleep(0.3)
        sock.sendall(f"{len(rest):x}\r\n".encode() + rest + b"\r\n0\r\n\r\n")
        status, _, body = _answer(sock)
    assert (status, json.loads(body)["data"]["name"]) == (200, "prefix")


def test_a_body_that_does_not_arrive_in_time_is_a_408(quick: OvpServer) -> None:
    with quick.http(TOKEN) as client:
        profile = client.post(PROFILES, json={"name": "office"}).json()["data"]
    with _connect(quick) as sock:
        sock.sendall(_request("PATCH", f"{PROFILES}/{profile['id']}", b'{"name": ', length=40))
        status, headers, body = _answer(sock)
        assert status == 408
        assert headers["connection"] == "close"
        assert "did not arrive within 1 s" in str(_envelope(body)["detail"])
    with quick.http(TOKEN) as client:
        assert client.get(f"{PROFILES}/{profile['id']}").json()["data"]["name"] == "office"


def _send_an_endless_header(sock: socket.socket) -> float:
    """Sends a header of up to 100 MiB, which the server must not wait for; answers when it began."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ")
    began = time.monotonic()
    try:
        for _ in range(100):
            sock.sendall(b"a" * (1024 * 1024))
    except OSError:  # the server answered and closed: it read no more
        pass
    return began


def test_a_head_over_64_kib_is_a_431_and_is_not_read_whole(proxied: Proxy) -> None:
    with _connect(proxied) as sock:
        began = _send_an_endless_header(sock)
        status, _headers, body = _answer(sock)
        assert time.monotonic() - began < 5
    assert status == 431
    assert "longer than 65536 bytes" in str(_envelope(body)["detail"])


def test_without_the_proxy_a_head_over_64_kib_is_a_431_without_a_body_and_is_not_read_whole(
        quick: OvpServer) -> None:
    with _connect(quick) as sock:
        began = _send_an_endless_header(sock)
        status, headers, body = _answer(sock)
        assert time.monotonic() - began < 5
        assert (status, headers["connection"], body) == (431, "close", b"")
        assert _closed_within(sock, 5) < 2


def test_a_url_over_8_kib_is_a_414(quick: OvpServer) -> None:
    with _connect(quick) as sock:
        sock.sendall(f"GET /v2/outbound_voice_profiles?x={'a' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, _headers, body = _answer(sock)
    assert status == 414
    _envelope(body)


def test_an_unknown_method_is_a_405_with_allow(quick: OvpServer) -> None:
    with _connect(quick) as sock:
        sock.sendall(b"FROB /v2/outbound_voice_profiles HTTP/1.1\r\nHost: x\r\n\r\n")
        status, headers, body = _answer(sock)
    assert status == 405
    assert headers["allow"] == "GET, HEAD, POST"
    assert headers["x-request-id"]
    _envelope(body)


def test_slow_heads_and_idle_connections_are_closed(quick: OvpServer) -> None:
    with _connect(quick) as idle:
        assert _closed_within(idle, 5) < 3
    with _connect(quick) as slow:
        slow.sendall(b"GET /healthz HTTP/1.1\r\n")  # and the rest never comes (slowloris)
        assert _closed_within(slow, 5) < 3
    with _connect(quick) as kept:
        kept.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _answer(kept)[0] == 200
        assert _closed_within(kept, 5) < 3  # idle after its answer


def _low_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def test_a_flood_of_idle_sockets_never_locks_a_client_out(tmp_path: Path) -> None:
    """256 file descriptors and 300 idle sockets: the idlest make room for a real client."""
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open", preexec=_low_descriptor_limit)
    sockets: list[socket.socket] = []
    try:
        for _ in range(300):
            try:
                sockets.append(_connect(server))
            except OSError:
                break
        time.sleep(0.3)
        with httpx.Client(base_url=server.origin, timeout=5.0) as client:
            for _ in range(5):
                assert client.get("/healthz").status_code == 200
    finally:
        for sock in sockets:
            sock.close()
        server.stop()
