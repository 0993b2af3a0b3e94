"""The sender's HTTP client: one POST at a time on a connection, HTTP/1.1 kept alive, each
receiver's idle connections kept for the next POST; httptools parses the answers.

Why not aiohttp, which the sender used before: with 64 POSTs in flight on kept-alive connections, a
POST cost aiohttp's client 125 to 170 µs of CPU, and this one 50 to 70 (`python -m
bench.http_clients`, asyncio's loop), where the sender's CPU is taken from the authorizations
beside it (docs/performance.md, "Call webhooks").
What it leaves out, ovp does not use: no redirect is followed, no cookie kept, no proxy from the
environment, no compression asked for."""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import cast

import httptools

KEEP_ALIVE_S = 15.0  # an idle connection is closed after this (aiohttp's default, as before)
MAX_IDLE = 64  # idle connections kept to one receiver (the sender has 64 POSTs in flight at most)


class CouldNotConnect(Exception):
    """No connection to the receiver: refused, unreachable, its name unknown, its certificate refused."""


class Broken(Exception):
    """The connection broke before the whole answer's head, or the answer was not HTTP."""


@dataclass(frozen=True)
class Answer:
    status: int
    headers: list[list[str]]  # as the receiver sent them, in order
    body: bytes  # its first `kept_bytes`


@dataclass(frozen=True)
class _Target:
    receiver: tuple[str, str, int]  # scheme, host, port: what a connection is kept for
    head: bytes  # the request line, and the headers every POST to it starts with (Host, Authorization)


@lru_cache(maxsize=1024)
def _target(url: str) -> _Target:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CouldNotConnect(f"not an http(s) URL: {url}")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        name = parts.hostname if parts.hostname.isascii() else parts.hostname.encode("idna").decode("ascii")
    except (ValueError, UnicodeError) as error:
        raise CouldNotConnect(f"not a URL ovp can reach: {url}: {error}") from error
    host = f"[{name}]" if ":" in name else name
    default_port = port == (443 if parts.scheme == "https" else 80)
    path = urllib.parse.quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = urllib.parse.quote(parts.query, safe="/?%:@!$&'()*+,;=-._~")
    lines = [f"POST {path}{'?' + query if query else ''} HTTP/1.1",
             f"Host: {host if default_port else f'{host}:{port}'}"]
    if parts.username is not None:
        credentials = f"{urllib.parse.unquote(parts.username)}:{urllib.parse.unquote(parts.password or '')}"
        lines.append(f"Authorization: Basic {base64.b64encode(credentials.encode()).decode()}")
    return _Target((parts.scheme, name, port), ("\r\n".join(lines) + "\r\n").encode("latin-1"))


def receiver_of(url: str) -> tuple[str, str, int] | None:
    """The receiver a URL names (scheme, host, port), as connections to it are kept; None for a
    URL the client cannot post to."""
    try:
        return _target(url).receiver
    except CouldNotConnect:
        return None


@cache
def _tls() -> ssl.SSLContext:
    return ssl.create_default_context()


class _Connection(asyncio.Protocol):
    """One connection to a receiver, answering one request at a time."""

    def __init__(self, kept_bytes: int) -> None:
        self._kept_bytes = kept_bytes
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[Answer] | None = None
        self._headers: list[list[str]] = []
        self._body = bytearray()
        self._ends_at_close = False  # an answer's head came with no length: its body ends with the connection
        self.reusable = True
        self.idle_since = 0.0

    # asyncio's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # (uvloop's is no subclass of asyncio's)

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        if self._ends_at_close and exc is None:
            self._done(reusable=False)
        self._fail(Broken(f"the receiver closed the connection{f': {exc}' if exc else ''}"))

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(Broken("the receiver switched protocols"))
        except httptools.HttpParserError as error:
            self._fail(Broken(f"the answer is not HTTP: {error}"))

    # httptools' side
    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append([name.decode("latin-1"), value.decode("latin-1")])

    def on_headers_complete(self) -> None:
        framed = {name.lower() for name, _value in self._headers} & {"content-length", "transfer-encoding"}
        self._ends_at_close = not framed

    def on_body(self, body: bytes) -> None:
        room = self._kept_bytes - len(self._body)
        self._body += body[:room]
        if len(body) > room:  # an answer longer than what is kept: this connection ends with it
            self._done(reusable=False)

    def on_message_complete(self) -> None:
        self._done(reusable=self._parser.should_keep_alive())

    def request(self, head: bytes, body: bytes) -> asyncio.Future[Answer]:
        assert self._transport is not None
        self._answer = asyncio.get_running_loop().create_future()
        self._headers, self._body, self._ends_at_close = [], bytearray(), False
        self._transport.write(head + body)
        return self._answer

    def close(self) -> None:
        self.reusable = False
        if self._transport is not None:
            self._transport.close()

    def _done(self, *, reusable: bool) -> None:
        answer, self._answer = self._answer, None
        if answer is None or answer.done():
            return
        self.reusable = reusable and self._transport is not None and not self._transport.is_closing()
        answer.set_result(Answer(self._parser.get_status_code(), self._headers, bytes(self._body)))
        if not self.reusable:
            self.close()

    def _fail(self, error: Exception) -> None:
        answer, self._answer = self._answer, None
        self.close()
        if answer is not None and not answer.done():
            answer.set_exception(error)


class Client:
    """POSTs to webhook receivers, each receiver's idle connections kept alive for `keep_alive_s`."""

    def __init__(self, kept_bytes: int, keep_alive_s: float = KEEP_ALIVE_S) -> None:
        self._kept_bytes = kept_bytes
        self._keep_alive_s = keep_alive_s
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._sweeping: set[tuple[str, str, int]] = set()  # receivers whose idle connections a timer closes

    async def post(self, url: str, headers: Sequence[tuple[str, str]], body: bytes, timeout_s: float) -> Answer:
        """The receiver's answer; raises CouldNotConnect, Broken or TimeoutError (the whole POST,
        its connection included, took longer than `timeout_s`)."""
        target = _target(url)
        head = target.head + "".join(f"{name}: {value}\r\n" for name, value in headers).encode("latin-1")
        head += b"Content-Length: %d\r\n\r\n" % len(body)
        connection: _Connection | None = None
        try:
            async with asyncio.timeout(timeout_s):
                connection = self._kept(target.receiver) or await self._connect(target.receiver)
                answer = await connection.request(head, body)
        except BaseException:
            if connection is not None:
                connection.close()
            raise
        if connection.reusable:
            self._keep(target.receiver, connection)
        return answer

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    def _kept(self, receiver: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(receiver)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.reusable and now - connection.idle_since < self._keep_alive_s:
                return connection
            connection.close()
        return None

    def _keep(self, receiver: tuple[str, str, int], connection: _Connection) -> None:
        idle = self._idle.setdefault(receiver, [])
        while len(idle) >= MAX_IDLE:  # the oldest first (those idle too long, _sweep closes)
            idle.pop(0).close()
        connection.idle_since = time.monotonic()
        idle.append(connection)
        if receiver not in self._sweeping:
            self._sweep_later(receiver)

    def _sweep_later(self, receiver: tuple[str, str, int]) -> None:
        self._sweeping.add(receiver)
        asyncio.get_running_loop().call_later(self._keep_alive_s, self._sweep, receiver)

    def _sweep(self, receiver: tuple[str, str, int]) -> None:
        """Closes the receiver's connections idle for the keep-alive time, so that a receiver no longer
        sent to holds no socket; looks again later while some are left."""
        self._sweeping.discard(receiver)
        idle = self._idle.get(receiver, [])
        now = time.monotonic()
        while idle and (not idle[0].reusable or now - idle[0].idle_since >= self._keep_alive_s):
            idle.pop(0).close()
        if idle:
            self._sweep_later(receiver)
        else:
            self._idle.pop(receiver, None)

    async def _connect(self, receiver: tuple[str, str, int]) -> _Connection:
        scheme, host, port = receiver
        tls = _tls() if scheme == "https" else None
        try:
            _transport, connection = await asyncio.get_running_loop().create_connection(
                lambda: _Connection(self._kept_bytes), host, port, ssl=tls)
        except OSError as error:  # refused, unreachable, no such name (socket.gaierror), a refused certificate
            raise CouldNotConnect(str(error)) from error
        return connection
