"""The sender's HTTP client against real receivers on loopback sockets, each answering as a test
scripts it: kept-alive connections, answers of every framing, and each way a POST fails."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from ovp.webhooks.client import Broken, Client, CouldNotConnect, receiver_of

KEPT = 10_000
HEADERS = [("content-type", "application/json"), ("user-agent", "ovp-webhooks")]
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Receiver: kept\r\n\r\nok"

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Receiver:
    """A loopback server: each connection is handed to `handler` (a test may set another before it
    starts); it counts the connections and keeps each request's head and body."""

    def __init__(self, handler: Handler | None = None) -> None:
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []
        self.requests: list[tuple[bytes, bytes]] = []
        self.handler = handler or self.answer_each(OK)

    def answer_each(self, answer: bytes) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await self.read_request(reader):
                writer.write(answer)
            writer.close()
        return handle

    def answer_once_then_close(self, answer: bytes) -> Handler:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self.read_request(reader)
            writer.write(answer)
            await writer.drain()
            writer.close()
        return handle

    async def read_request(self, reader: asyncio.StreamReader) -> bool:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.split(b"\r\n")
        length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:"))
        self.requests.append((head, await reader.readexactly(length)))
        return True

    async def _accepted(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        await self.handler(reader, writer)

    async def start(self, tls: ssl.SSLContext | None = None) -> str:
        self._server = await asyncio.start_server(self._accepted, "127.0.0.1", 0, ssl=tls)
        port = self._server.sockets[0].getsockname()[1]
        return f"{'https' if tls else 'http'}://127.0.0.1:{port}/hooks?kind=call"

    async def stop(self) -> None:
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()


@contextlib.asynccontextmanager
async def serving(receiver: Receiver, tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[Client, str]]:
    """A client, and the URL of `receiver` started; both closed after."""
    client = Client(KEPT)
    url = await receiver.start(tls)
    try:
        yield client, url
    finally:
        await client.close()
        await receiver.stop()


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


def test_posts_on_one_kept_connection_and_reads_each_answer() -> None:
    async def test() -> None:
        receiver = Receiver()
        async with serving(receiver) as (client, url):
            answers = [await client.post(url, HEADERS, b'{"n":%d}' % n, 5) for n in range(3)]
            assert [(answer.status, answer.body) for answer in answers] == [(200, b"ok")] * 3
            assert ["X-Receiver", "kept"] in answers[0].headers
            assert receiver.connections == 1
            head, body = receiver.requests[2]
            port = url.split(":")[2].split("/")[0]
            assert head.split(b"\r\n")[:4] == [b"POST /hooks?kind=call HTTP/1.1", f"Host: 127.0.0.1:{port}".encode(),
                                               b"content-type: application/json", b"user-agent: ovp-webhooks"]
            assert b"Content-Length: 7" in head
            assert body == b'{"n":2}'
    run(test)


def test_an_idle_connection_is_closed_after_the_keep_alive_time() -> None:
    async def test() -> None:
        closed = asyncio.Event()

        async def answer_then_wait_for_the_end(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await receiver.read_request(reader):
                writer.write(OK)
            closed.set()

        receiver = Receiver(answer_then_wait_for_the_end)
        url = await receiver.start()
        client = Client(KEPT, keep_alive_s=0.2)
        await client.post(url, HEADERS, b"{}", 5)
        await asyncio.wait_for(closed.wait(), 5)  # with no other POST to it
        await client.close()
        await receiver.stop()
    run(test)


def test_a_receiver_that_closes_after_each_answer_gets_a_connection_for_each() -> None:
    async def test() -> None:
        receiver = Receiver()
        receiver.handler = receiver.answer_each(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
        async with serving(receiver) as (client, url):
            assert [(await client.post(url, HEADERS, b"{}", 5)).status for _ in range(2)] == [204, 204]
            assert receiver.connections == 2
    run(test)


def test_a_chunked_answer_and_the_credentials_in_the_url() -> None:
    async def test() -> None:
        receiver = Receiver()
        receiver.handler = receiver.answer_each(
            b"HTTP/1.1 500 Oops\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nnot\r\n4\r\n yet\r\n0\r\n\r\n")
        async with serving(receiver) as (client, url):
            url = url.replace("http://", "http://us%40er:p%3Ass@")
            answer = await client.post(url, HEADERS, b"{}", 5)
            assert (answer.status, answer.body) == (500, b"not yet")
            assert b"Authorization: Basic dXNAZXI6cDpzcw==" in receiver.requests[0][0]  # us@er:p:ss
    run(test)


def test_an_answer_without_a_length_ends_with_its_connection() -> None:
    async def test() -> None:
        receiver = Receiver()
        receiver.handler = receiver.answer_once_then_close(b"HTTP/1.0 202 Accepted\r\n\r\ntaken")
        async with serving(receiver) as (client, url):
            answers = [await client.post(url, HEADERS, b"{}", 5) for _ in range(2)]
            assert [(answer.status, answer.body) for answer in answers] == [(202, b"taken")] * 2
            assert receiver.connections == 2
    run(test)


def test_an_answer_longer_than_what_is_kept_ends_its_connection_once_kept() -> None:
    async def test() -> None:
        receiver = Receiver()

        async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await receiver.read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n" + b"x" * 20_000)
            await asyncio.sleep(30)  # the rest never comes

        receiver.handler = endless
        async with serving(receiver) as (client, url):
            started = time.monotonic()
            answer = await client.post(url, HEADERS, b"{}", 10)
            assert (answer.status, answer.body) == (200, b"x" * KEPT)
            assert time.monotonic() - started < 5  # not the timeout: it stops reading once it has kept enough
            await client.post(url, HEADERS, b"{}", 10)
            assert receiver.connections == 2  # the first connection was not used again
    run(test)


@pytest.mark.parametrize("answer", [b"", b"HTTP/1.1 200 OK\r\nContent-Le", b"SSH-2.0-OpenSSH\r\n\r\n"])
def test_a_connection_that_ends_before_its_answer_or_answers_no_http_is_broken(answer: bytes) -> None:
    async def test() -> None:
        receiver = Receiver()
        receiver.handler = receiver.answer_once_then_close(answer)
        async with serving(receiver) as (client, url):
            with pytest.raises(Broken):
                await client.post(url, HEADERS, b"{}", 5)
    run(test)


def test_a_refused_connection_and_a_hung_receiver() -> None:
    async def test() -> None:
        client = Client(KEPT)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        with pytest.raises(CouldNotConnect):
            await client.post(f"http://127.0.0.1:{closed}/hooks", HEADERS, b"{}", 5)

        async def hang(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(30)

        receiver = Receiver(hang)
        url = await receiver.start()
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.post(url, HEADERS, b"{}", 0.5)
        assert 0.4 < time.monotonic() - started < 5
        await client.close()
        await receiver.stop()
    run(test)


def test_a_receiver_whose_certificate_is_not_trusted_is_not_connected_to(tmp_path: Path) -> None:
    key, certificate = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(certificate, key)

    async def test() -> None:
        receiver = Receiver()
        async with serving(receiver, tls) as (client, url):
            with pytest.raises(CouldNotConnect, match="CERTIFICATE_VERIFY_FAILED"):
                await client.post(url, HEADERS, b"{}", 5)
            assert receiver.requests == []
    run(test)


def test_a_receiver_is_its_scheme_host_and_port_whatever_the_credentials_path_or_case() -> None:
    # The sender shares a receiver's slots among every URL that names it, as the client shares
    # its kept connections.
    assert receiver_of("http://alice:secret@Example.COM/hooks?a=1") == receiver_of("http://example.com:80/other") \
        == ("http", "example.com", 80)
    assert receiver_of("https://[::1]/x") == ("https", "::1", 443)
    assert receiver_of("https://bücher.example:8443/") == ("https", "xn--bcher-kva.example", 8443)
    assert receiver_of("http://example.com:99999/") is None  # no such port
    assert receiver_of("ftp://example.com/") is None
