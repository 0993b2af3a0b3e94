"""The HTTP/1.1 protocol ovp serves with: uvicorn's httptools protocol, with the limits and timeouts
that a server facing careless or hostile clients needs, each answered in Telnyx's envelope where
HTTP still allows an answer.

- A request's line and headers: at most `head_bytes` (431), its URL at most `url_bytes` (414). The
  bytes are counted before the parser sees them, since httptools gathers a header's value whole
  before it hands it on: a 100 MB header would otherwise be read, and held, whole.
- A method no route knows: 405 with `Allow`, as for a known method a route lacks.
- A connection idle for `idle_timeout_s` (before its first request, or between requests) is closed;
  a request's head must arrive within `head_timeout_s` of its first byte (or the connection is
  closed: slowloris), and its body within `body_timeout_s` of its head (408).
- At most `max_in_flight` requests in progress: past it, a new request is answered 503 at once
  (overload is shed, not queued), but for the probes.
- At most `max_connections` open connections: past it, the one idle the longest makes room, or,
  with none idle, the new one is refused with a 503. The cap sits below the process's file
  descriptor limit, so a flood of idle sockets never locks everyone out.
"""

from __future__ import annotations

import asyncio
import heapq
import math
import os
import socket
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from ovp.api.http import Response, error_response
from ovp.api.request_ids import new_request_id
from ovp.domain.errors import (
    HeadersTooLarge,
    MethodNotAllowed,
    NotFound,
    OvpError,
    RequestTimeout,
    ServiceUnavailable,
    UriTooLong,
)

PROBE_PATHS = frozenset({"/healthz", "/readyz"})


@dataclass(frozen=True)
class ConnectionLimits:
    head_bytes: int = 64 * 1024
    url_bytes: int = 8 * 1024
    head_timeout_s: float = 10.0
    idle_timeout_s: float = 5.0
    body_timeout_s: float = 10.0
    max_connections: int = 1024
    max_in_flight: int = 256


class _Refused(Exception):
    """Raised from a parser callback: the request is answered with `error` and not read on."""

    def __init__(self, error: OvpError) -> None:
        super().__init__(error)
        self.error = error


class _Sweeper:
    """Enforces every connection's deadline of one server, SWEEP_S apart. A timer per request (the
    head's, the body's, the idle wait's) made and cancelled thousands of times a second starved
    uvloop's accepting of new connections under a flood: half of a thousand stayed unaccepted."""

    def __init__(self, loop: asyncio.AbstractEventLoop, connections: set[Any]) -> None:
        self._loop = loop
        self._connections = connections
        self._handle: asyncio.TimerHandle | None = None

    def ensure_running(self) -> None:
        if self._handle is None:
            self._handle = self._loop.call_later(SWEEP_S, self._sweep)

    def _sweep(self) -> None:
        self._handle = None
        now = time.monotonic()
        for connection in list(self._connections):
            if isinstance(connection, OvpHttpProtocol) and connection.deadline <= now:
                connection.expired()
        if self._connections:
            self.ensure_running()


SWEEP_S = 0.25


class OvpHttpProtocol(HttpToolsProtocol):
    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None, *, limits: ConnectionLimits) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self._awaiting_head = True  # no request has begun, or its head is not complete
        self._head_fed = 0  # bytes fed to the parser since the head began
        self._url_bytes = 0
        self._answered = False  # the request being read was answered already: drop its body
        self._idle_since = time.monotonic()
        self._only_probes = True  # every request so far a probe with no body: a health checker's
        # When the connection's current wait (idle, head or body) runs out, and what then.
        self.deadline = math.inf
        self.expired: Callable[[], None] = self._close
        sweeper = getattr(server_state, "ovp_sweeper", None)
        if sweeper is None:
            sweeper = _Sweeper(self.loop, self.connections)
            server_state.ovp_sweeper = sweeper  # type: ignore[attr-defined]
        self._sweeper: _Sweeper = sweeper

    def _wait(self, seconds: float, then: Callable[[], None]) -> None:
        self.deadline, self.expired = time.monotonic() + seconds, then

    def _cancel_timer(self) -> None:
        self.deadline = math.inf

    # Connections ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn waits for a keep-alive only after a response: a connection that never sends
        # a request would otherwise stay open for good.
        self._wait(self.limits.idle_timeout_s, self._close)
        self._sweeper.ensure_running()
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        """As uvicorn's, the idle wait after a response kept on the sweeper rather than a timer."""
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
        elif self._awaiting_head and self._head_fed == 0:
            self._idle_since = time.monotonic()
            self._wait(self.limits.idle_timeout_s, self._close)
            self._hand_to_acceptor_if_probing()

    def _hand_to_acceptor_if_probing(self) -> None:
        """A connection that has sent only probes (a health checker's), idle between them, goes to
        the acceptor's thread, which answers its probes whatever the loop is doing (see
        ovp.server.accept). The socket is duplicated first: closing the transport then closes
        only the loop's descriptor, and the client sees nothing."""
        adopt = getattr(self.server_state, "ovp_adopt", None)
        if (adopt is None or not self._only_probes or not self.idle or self.pipeline or self.transport.is_closing()
                or self.transport.get_write_buffer_size()):
            return
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return
        duplicate = socket.socket(sock.family, sock.type, sock.proto, os.dup(sock.fileno()))
        if not adopt(duplicate):
            duplicate.close()
            self._only_probes = False  # not asked again
            return
        self._cancel_timer()
        self.transport.close()

    def _close(self) -> None:
        self._cancel_timer()
        if not self.transport.is_closing():
            self.transport.close()

    @property
    def idle(self) -> bool:
        return self._awaiting_head and self._head_fed == 0 and (self.cycle is None or self.cycle.response_complete)

    def _make_room(self) -> None:
        if not close_idlest(self.connections, 1, sparing=self):
            self._refuse(ServiceUnavailable("The server has as many connections open as it takes; try again shortly."))

    # Reading ----------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._receive(data)
        self._hand_to_acceptor_if_probing()

    def _receive(self, data: bytes) -> None:
        if self._awaiting_head and self._head_fed == 0:  # a request's first bytes: its head has a deadline
            self._wait(self.limits.head_timeout_s, self._close)
        if not self._awaiting_head:
            self._feed(data)
            return
        room = self.limits.head_bytes - self._head_fed
        head = data[:room]
        self._head_fed += len(head)
        if not self._feed(head):
            return
        if len(data) > room:
            if self._awaiting_head:
                self._refuse(HeadersTooLarge(self.limits.head_bytes))
                return
            self._feed(data[room:])

    def _feed(self, data: bytes) -> bool:
        """Feeds the parser; False when the request was refused (and the connection closed)."""
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as error:
            if isinstance(error.__context__, _Refused):
                self._refuse(error.__context__.error)
                return False
            raise
        except httptools.HttpParserInvalidMethodError:
            self._refuse(self._unknown_method(data))
            return False
        except httptools.HttpParserError:
            self.logger.warning("Invalid HTTP request received.")
            self.send_400_response("Invalid HTTP request received.")
            return False
        except httptools.HttpParserUpgrade:
            self._unsupported_upgrade_warning()
        return True

    def _unknown_method(self, data: bytes) -> OvpError:
        """405 with the route's methods, when the request line names a route; else 404."""
        line = data.split(b"\r\n", 1)[0].split(b" ")
        path = line[1].split(b"?", 1)[0].decode("latin-1") if len(line) > 1 else ""
        allowed = getattr(self.app, "allowed_methods", lambda _path: None)(path)
        return MethodNotAllowed(allowed) if allowed else NotFound()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._url_bytes = 0

    def on_url(self, url: bytes) -> None:
        self._url_bytes += len(url)
        if self._url_bytes > self.limits.url_bytes:
            raise _Refused(UriTooLong(self.limits.url_bytes))
        super().on_url(url)

    def on_headers_complete(self) -> None:
        self._awaiting_head = False
        self._cancel_timer()
        self._only_probes = self._only_probes and self._is_probe()
        # A request pipelined behind one still being answered waits its turn, whatever it is:
        # answers go out in the order of the requests.
        pending = self.cycle is not None and not self.cycle.response_complete
        answer = None if pending else self._answer_at_once()
        if answer is not None:
            # Written here, without a task: what a task would cost is what an overloaded loop
            # lacks. The connection stays open for the client's next request (its body, if any,
            # is read and dropped).
            keep = self.parser.should_keep_alive()
            self._write(answer, keep_alive=keep, include_body=self.parser.get_method() != b"HEAD")
            if keep:
                self._answered = True
            else:
                self.transport.close()
            return
        super().on_headers_complete()
        if self._has_body():
            self._wait(self.limits.body_timeout_s, self._body_timed_out)

    def _is_probe(self) -> bool:
        return self.parser.get_method() in (b"GET", b"HEAD") and self._path() in PROBE_PATHS

    def _path(self) -> str:
        return _path_of(self.url)

    def _answer_at_once(self) -> Response | None:
        """The app's answer without a task (a probe's; and past max_in_flight requests in progress,
        their tasks made and not yet done, a 503 for any other: overload is shed, not queued)."""
        answer_at_once = getattr(self.app, "answer_at_once", None)
        if answer_at_once is None:
            return None
        method = self.parser.get_method().decode("ascii")
        path = self._path()
        busy = len(self.tasks) >= self.limits.max_in_flight
        answer: Response | None = answer_at_once(method, path, self.headers, busy=busy)
        return answer

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def _has_body(self) -> bool:
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip() not in (b"", b"0")
            if name == b"transfer-encoding":
                return True
        return False

    def on_message_complete(self) -> None:
        self._cancel_timer()
        self._awaiting_head, self._head_fed, self._idle_since = True, 0, time.monotonic()
        if self._answered:
            self._answered = False
            self._wait(self.limits.idle_timeout_s, self._close)
            return
        super().on_message_complete()

    # Timeouts ---------------------------------------------------------------------------------
    # A head too slow (slowloris) and an idle connection are closed without an answer (_close), as
    # HTTP servers do; a body too slow is a 408.

    def _body_timed_out(self) -> None:
        self._cancel_timer()
        cycle = self.cycle
        if cycle is not None and cycle.response_started:
            self.transport.close()
            return
        self._refuse(RequestTimeout(f"The request's body did not arrive within {self.limits.body_timeout_s:g} s."))

    # Answers ----------------------------------------------------------------------------------

    def _refuse(self, error: OvpError) -> None:
        """Answers `error` in Telnyx's envelope and closes the connection. A request whose handler
        already runs hears that its client went away, so it is dropped, never applied."""
        self._cancel_timer()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            if cycle.response_started:
                self.transport.close()
                return
            cycle.disconnected = True
            cycle.message_event.set()
        if self.transport.is_closing():
            return
        response = error_response(error)
        response.headers["x-request-id"] = new_request_id()
        self._write(response, keep_alive=False)
        self.transport.close()

    def _write(self, response: Response, *, keep_alive: bool, include_body: bool = True) -> None:
        self.transport.write(response_bytes(response, self.server_state.default_headers, keep_alive=keep_alive,
                                            include_body=include_body))


def _path_of(url: bytes) -> str:
    """A request target's path, percent-decoded, as the routes name it."""
    return urllib.parse.unquote(httptools.parse_url(url).path.decode("ascii"))


def close_idlest(connections: set[Any], count: int, *, sparing: object = None) -> int:
    """Closes up to `count` of the `connections` idle the longest (but `sparing`); answers how many."""
    idle = heapq.nsmallest(count, (connection for connection in connections
                                   if isinstance(connection, OvpHttpProtocol) and connection is not sparing
                                   and connection.idle), key=lambda connection: connection._idle_since)
    for connection in idle:
        connection.transport.close()
    return len(idle)


def response_bytes(response: Response, default_headers: list[tuple[bytes, bytes]], *, keep_alive: bool,
                   include_body: bool) -> bytes:
    """An answer as HTTP/1.1 sends it; `include_body` False for a HEAD."""
    headers = [
        (b"content-type", response.media_type.encode()),
        (b"content-length", b"%d" % len(response.body)),
        *((name.lower().encode(), value.encode()) for name, value in response.headers.items()),
    ]
    if not keep_alive:
        headers.append((b"connection", b"close"))
    content = [STATUS_LINE[response.status]]
    for name, value in default_headers + headers:
        content.extend([name, b": ", value, b"\r\n"])
    content.append(b"\r\n")
    if include_body:
        content.append(response.body)
    return b"".join(content)


@dataclass(frozen=True)
class Answered:
    """A probe answered from its connection's first bytes (see ovp.server.accept): how many bytes
    its head took, the answer's bytes, and whether the connection stays open."""

    head_bytes: int
    answer: bytes
    keep_alive: bool


# (method, path, headers) -> the app's answer without a task, or None.
AnswerAtOnce = Callable[..., Response | None]


class _Head:
    """What httptools reports of one request head."""

    def __init__(self) -> None:
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.method = b""
        self.keep_alive = False
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        # Read here: once the message is complete, the parser is ready for the next one.
        self.method, self.keep_alive = self.parser.get_method(), self.parser.should_keep_alive()

    def on_message_complete(self) -> None:
        self.complete = True


def probe_answer(first: bytes, answer_at_once: AnswerAtOnce,
                 default_headers: list[tuple[bytes, bytes]]) -> Answered | None:
    """The answer to the request whose head begins `first`, when it is a whole probe with no body
    that the app answers without a task (see OvpApp.answer_at_once); else None, and the
    connection takes its usual course."""
    end = first.find(b"\r\n\r\n")
    if end < 0 or not first.startswith((b"GET /", b"HEAD /")):
        return None
    head = first[:end + 4]
    parsed = _Head()
    try:
        parsed.parser.feed_data(head)
    except httptools.HttpParserError:
        return None
    if not parsed.complete:  # a body follows
        return None
    method = parsed.method.decode("ascii")
    try:
        path = _path_of(parsed.url)
    except (httptools.HttpParserInvalidURLError, UnicodeDecodeError):
        return None
    answer = answer_at_once(method, path, parsed.headers, busy=False)
    if answer is None:
        return None
    return Answered(len(head), response_bytes(answer, default_headers, keep_alive=parsed.keep_alive,
                                              include_body=method != "HEAD"), parsed.keep_alive)
