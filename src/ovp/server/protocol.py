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
- At most `max_connections` open connections: past it, the one idle the longest makes room, or,
  with none idle, the new one is refused with a 503. The cap sits below the process's file
  descriptor limit, so a flood of idle sockets never locks everyone out.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from ovp.api.http import error_response
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


@dataclass(frozen=True)
class ConnectionLimits:
    head_bytes: int = 64 * 1024
    url_bytes: int = 8 * 1024
    head_timeout_s: float = 10.0
    idle_timeout_s: float = 5.0
    body_timeout_s: float = 10.0
    max_connections: int = 1024


class _Refused(Exception):
    """Raised from a parser callback: the request is answered with `error` and not read on."""

    def __init__(self, error: OvpError) -> None:
        super().__init__(error)
        self.error = error


class OvpHttpProtocol(HttpToolsProtocol):
    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None, *, limits: ConnectionLimits) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self._awaiting_head = True  # no request has begun, or its head is not complete
        self._head_fed = 0  # bytes fed to the parser since the head began
        self._url_bytes = 0
        self._timer: asyncio.TimerHandle | None = None  # the head's or the body's
        self._idle_since = time.monotonic()

    # Connections ------------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # uvicorn arms its keep-alive timer only after a response: a connection that never sends
        # a request would otherwise stay open for good.
        self.timeout_keep_alive_task = self.loop.call_later(self.limits.idle_timeout_s,
                                                            self.timeout_keep_alive_handler)
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        super().connection_lost(exc)

    @property
    def idle(self) -> bool:
        return self._awaiting_head and self._head_fed == 0 and (self.cycle is None or self.cycle.response_complete)

    def _make_room(self) -> None:
        idle = [connection for connection in self.connections
                if isinstance(connection, OvpHttpProtocol) and connection is not self and connection.idle]
        if idle:
            min(idle, key=lambda connection: connection._idle_since).transport.close()
            return
        self._refuse(ServiceUnavailable("The server has as many connections open as it takes; try again shortly."))

    # Reading ----------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._awaiting_head and self._timer is None:
            self._timer = self.loop.call_later(self.limits.head_timeout_s, self._head_timed_out)
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
        super().on_headers_complete()
        if self._has_body():
            self._timer = self.loop.call_later(self.limits.body_timeout_s, self._body_timed_out)

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
        super().on_message_complete()

    # Timeouts ---------------------------------------------------------------------------------

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_timed_out(self) -> None:
        """Too slow a head (slowloris): closed without an answer, as HTTP servers do."""
        self._timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def _body_timed_out(self) -> None:
        self._timer = None
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
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(response.body)),
            (b"connection", b"close"),
            (b"x-request-id", new_request_id().encode()),
            *((name.lower().encode(), value.encode()) for name, value in response.headers.items()),
        ]
        content = [STATUS_LINE[response.status]]
        for name, value in self.server_state.default_headers + headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"\r\n", response.body])
        self.transport.write(b"".join(content))
        self.transport.close()
