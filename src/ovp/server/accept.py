"""Accepting connections: every connection waiting, each time the listening socket is readable.

Since libuv 1.47, which uvloop runs on, a listening socket yields one connection per turn of the
event loop. Under a flood a turn serves a thousand busy connections and takes a quarter of a
second, so new connections, a probe's among them, waited seconds in the kernel's queue (measured:
440 waiting, a /healthz answered after 5 s). Here the socket is read by ovp itself, which takes up
to ACCEPTS_PER_TURN connections each turn and hands each to the loop as an accepted socket.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

import uvicorn

log = logging.getLogger("ovp")

ACCEPTS_PER_TURN = 256
# Out of file descriptors (EMFILE, ENFILE): the wait before accepting again, rather than spinning.
DESCRIPTORS_BACKOFF_S = 0.1


class EagerAcceptor:
    """What uvicorn needs of a listening server (close, wait_closed), accepting eagerly."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, backlog: int,
                 protocol_factory: Callable[[], asyncio.Protocol]) -> None:
        self._loop = loop
        self._sock = sock
        self._protocol_factory = protocol_factory
        self._handing_over: set[asyncio.Task[object]] = set()
        self._closed = asyncio.Event()
        sock.setblocking(False)
        sock.listen(backlog)
        loop.add_reader(sock.fileno(), self._accept)

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_TURN):
            try:
                connection, _address = self._sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as error:  # out of file descriptors, most likely
                log.warning("accepting a connection failed: %s; trying again in %g s", error, DESCRIPTORS_BACKOFF_S)
                self._loop.remove_reader(self._sock.fileno())
                self._loop.call_later(DESCRIPTORS_BACKOFF_S, self._resume)
                return
            task = self._loop.create_task(self._hand_over(connection))
            self._handing_over.add(task)
            task.add_done_callback(self._handing_over.discard)

    async def _hand_over(self, connection: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, connection)
        except OSError:  # the client went away before its transport was made
            connection.close()

    def _resume(self) -> None:
        if not self._closed.is_set():
            self._loop.add_reader(self._sock.fileno(), self._accept)

    def close(self) -> None:
        if not self._closed.is_set():
            self._loop.remove_reader(self._sock.fileno())
            self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()


class EagerServer(uvicorn.Server):
    """uvicorn's server, its listening sockets read by EagerAcceptor rather than by the loop."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not sockets:
            raise ValueError("ovp's server listens on the sockets it is given")
        await super().startup(sockets=[])  # the application starts; nothing listens yet
        loop = asyncio.get_running_loop()
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop)

        for sock in sockets:
            # uvicorn only closes its servers and waits for them: an acceptor does both.
            self.servers.append(EagerAcceptor(loop, sock, config.backlog, create_protocol))  # type: ignore[arg-type]
