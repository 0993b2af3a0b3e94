"""The nginx configuration the docs ship (examples/nginx/ovp.conf), run in front of a real ovp: the
limits ovp leaves to the proxy hold, each answered in Telnyx's envelope as ovp writes it, and the
official SDK works through it unchanged."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import telnyx

from ovp.api.app import URL_BYTES
from ovp.api.http import MAX_CSV_BYTES, error_response
from ovp.domain.errors import HeadersTooLarge, OvpError, PayloadTooLarge, RequestTimeout, UriTooLong
from ovp.server.run import HEAD_BYTES
from tests.e2e.nginx import NGINX, SHIPPED, Proxy, nginx_in_front
from tests.e2e.servers import HOST, OvpServer, launch
from tests.e2e.test_hostile_clients import _answer, _envelope

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(NGINX is None, reason="nginx is not installed (make install installs it as root)")]

CAP = 32  # worker_connections: the clients' and those to ovp


@pytest.fixture
def ovp(tmp_path: Path) -> Iterator[OvpServer]:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open")
    yield server
    server.stop()


@pytest.fixture
def proxy(ovp: OvpServer, tmp_path: Path) -> Iterator[Proxy]:
    with nginx_in_front(tmp_path / "nginx", ovp.port, cap=CAP) as running:
        yield running


def _shipped_bodies() -> dict[int, bytes]:
    """The body of each refusal the configuration writes, by its status."""
    found = re.findall(r"return (\d{3}) '(.*)';", SHIPPED.read_text())
    return {int(status): body.replace("\\'", "'").encode() for status, body in found if status != "503"}


@pytest.mark.parametrize("error", [
    HeadersTooLarge(HEAD_BYTES), UriTooLong(URL_BYTES),
    PayloadTooLarge.single("10015", "Bad Request", f"The request body is larger than {MAX_CSV_BYTES} bytes."),
    RequestTimeout("The request's body did not arrive within 10 s."),
], ids=lambda error: type(error).__name__)
def test_each_refusal_of_the_proxy_is_the_one_ovp_writes(error: OvpError) -> None:
    assert _shipped_bodies()[error.status] == error_response(error).body


def test_the_sdk_works_through_the_proxy(proxy: Proxy) -> None:
    with telnyx.Telnyx(api_key="through-nginx", base_url=f"{proxy.origin}/v2", max_retries=0) as client:
        created = client.outbound_voice_profiles.create(name="proxied").data
        assert created is not None
        assert created.id is not None
        found = client.outbound_voice_profiles.retrieve(created.id).data
        assert found is not None
        assert found.name == "proxied"


def _connect(proxy: Proxy) -> socket.socket:
    return socket.create_connection((HOST, proxy.port), timeout=10)


def test_a_request_line_too_long_for_the_proxy_is_a_414_in_the_envelope(proxy: Proxy) -> None:
    with _connect(proxy) as sock:
        sock.sendall(f"GET /v2/outbound_voice_profiles?x={'a' * 70_000} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        status, headers, body = _answer(sock)
    assert status == 414
    assert "longer than 8192 bytes" in str(_envelope(body)["detail"])
    assert len(headers["x-request-id"]) == 32


def test_a_flood_of_idle_connections_past_the_cap_never_locks_a_client_out(proxy: Proxy) -> None:
    """Past its cap (worker_connections), nginx closes the connections idle the longest to make room."""
    held: list[socket.socket] = []
    try:
        for _ in range(CAP * 3):
            held.append(_connect(proxy))
        for _ in range(5):
            with _connect(proxy) as sock:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert _answer(sock)[0] == 200
    finally:
        for sock in held:
            sock.close()


def test_an_ovp_that_does_not_answer_is_a_503_in_the_envelope(ovp: OvpServer, proxy: Proxy) -> None:
    ovp.stop()
    with _connect(proxy) as sock:
        sock.sendall(b"GET /v2/outbound_voice_profiles HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n")
        status, headers, body = _answer(sock)
    assert (status, headers["retry-after"]) == (503, "1")
    assert "No ovp server answers" in str(json.loads(body)["errors"][0]["detail"])
