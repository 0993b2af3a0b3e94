"""Accepting connections: by the event loop while it keeps up, by a thread when it falls behind,
and the probes answered on that thread.

The event loop serves connections turn by turn, and under a flood a turn serves a thousand busy
connections and takes 60 to 250 ms; a connection the loop accepts then waits a turn to be
accepted, another to be read and a third to be answered (measured: /healthz on a new connection,
p99 323 ms under `wrk -c1000`). A thread that accepts every connection costs a new connection a
wait for the interpreter's lock under load instead (measured: 40% fewer requests/s from clients
that open a connection per request, as Kamailio's http_client does). So both read the listening
socket:

- the loop, while it keeps up (its heartbeat, every BEAT_S, is no older than LATE_S): it takes
  every connection waiting each turn (since libuv 1.47, the loop itself would take one a turn);
- a thread, for the connections still waiting once the loop is late. It looks at each one's
  first bytes without reading them (MSG_PEEK): a probe whose head is whole (GET or HEAD /healthz,
  /readyz, with no body) is answered there, at once, whatever the loop is doing, and its
  connection stays with the thread while it sends only probes (a health checker's kept
  connection), closed when idle as any other; anything else is handed to the loop untouched, its
  bytes still in the socket, and served there as always.

A connection that has sent nothing yet waits on the thread for its first bytes, up to the idle
timeout; past WAITING_MAX such connections (a storm of new connections), a new one goes to the loop
at once, where the caps on connections apply. So does a probe's connection past KEPT_MAX.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import selectors
import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from ovp.server.protocol import Answered, close_idlest, probe_answer

log = logging.getLogger("ovp")

# Connections the thread holds at most, waiting for their first bytes and kept by probes (each a
# file descriptor: see ovp.server.run).
WAITING_MAX = 32
KEPT_MAX = 16
HELD_MAX = WAITING_MAX + KEPT_MAX
# The loop's heartbeat, how old it may be before the thread takes the waiting connections, and how
# often the thread looks.
BEAT_S = 0.01
LATE_S = 0.02
TICK_S = 0.01
# Connections the loop takes in one turn at most, so that a storm of them cannot stall it.
ACCEPTS_PER_TURN = 256
# A probe's head is a few hundred bytes: more than this is not a probe.
PEEK_BYTES = 4096
# Out of file descriptors (EMFILE, ENFILE): the wait before accepting again, rather than spinning,
# and how many of the connections idle the longest are closed meanwhile to make room.
DESCRIPTORS_BACKOFF_S = 0.1
ROOM_MADE = 16


# The first bytes of a connection -> the probe's answer, or None when they are not a whole probe.
AnswerProbe = Callable[[bytes], Answered | None]


class Acceptor:
    """What uvicorn needs of a listening server (close, wait_closed)."""

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, backlog: int,
                 protocol_factory: Callable[[], asyncio.Protocol], answer_probe: AnswerProbe,
                 idle_timeout_s: float, make_room: Callable[[int], object]) -> None:
        """`make_room(n)`: closes, on the loop, the n connections idle the longest."""
        self._loop = loop
        self._make_room = make_room
        self._sock = sock
        self._protocol_factory = protocol_factory
        self._answer_probe = answer_probe
        self._idle_timeout_s = idle_timeout_s
        self._handing_over: set[asyncio.Task[object]] = set()
        self._beat = time.monotonic()
        self._beating: asyncio.TimerHandle | None = None
        self._held: dict[socket.socket, float] = {}  # connection -> when it is closed, idle
        self._kept: set[socket.socket] = set()  # the held connections that sent probes
        self._adopted: collections.deque[socket.socket] = collections.deque()  # from the loop, for the thread
        self._selector = selectors.DefaultSelector()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._wake_writer.setblocking(False)
        self._stopping = threading.Event()
        self._closed = asyncio.Event()
        sock.setblocking(False)
        sock.listen(backlog)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._thread = threading.Thread(target=self._run, name="ovp-accept", daemon=True)
        self._thread.start()
        loop.add_reader(sock.fileno(), self._accept_on_loop)
        self._heartbeat()

    # On the loop ------------------------------------------------------------------------------

    def _heartbeat(self) -> None:
        self._beat = time.monotonic()
        self._beating = self._loop.call_later(BEAT_S, self._heartbeat)

    def _late(self, now: float) -> bool:
        """Whether the loop's turn has lasted long enough that the thread takes the connections."""
        return now - self._beat > LATE_S

    def adopt(self, connection: socket.socket) -> bool:
        """Takes a connection that has sent only probes (see OvpHttpProtocol), idle between them,
        from the loop; False when the thread keeps as many such connections as it may."""
        if self._stopping.is_set() or len(self._kept) + len(self._adopted) >= KEPT_MAX:
            return False
        self._adopted.append(connection)
        self._wake()
        return True

    def _wake(self) -> None:
        """Wakes the thread; a wake-up it has not read yet does as well."""
        with contextlib.suppress(BlockingIOError):
            self._wake_writer.send(b"\0")

    def _accepted(self, at_most: int | None) -> tuple[list[socket.socket], bool]:
        """The connections waiting, `at_most` of them (None: all); and whether accepting ran out of
        file descriptors, in which case it is tried again after DESCRIPTORS_BACKOFF_S."""
        taken: list[socket.socket] = []
        while at_most is None or len(taken) < at_most:
            try:
                connection, _address = self._sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                break
            except OSError as error:  # out of file descriptors, most likely
                log.warning("accepting a connection failed: %s; trying again in %g s", error, DESCRIPTORS_BACKOFF_S)
                return taken, True
            taken.append(connection)
        return taken, False

    def _accept_on_loop(self) -> None:
        if self._late(time.monotonic()):
            return  # a long turn of the loop's: the thread takes them
        taken, out_of_descriptors = self._accepted(ACCEPTS_PER_TURN)
        for connection in taken:
            self._serve(connection)
        if out_of_descriptors:
            self._make_room(ROOM_MADE)  # else idle connections would hold every descriptor until they time out
            self._loop.remove_reader(self._sock.fileno())
            self._loop.call_later(DESCRIPTORS_BACKOFF_S, self._accept_again_on_loop)

    def _accept_again_on_loop(self) -> None:
        if not self._closed.is_set():
            self._loop.add_reader(self._sock.fileno(), self._accept_on_loop)

    def _serve(self, connection: socket.socket) -> None:
        task = self._loop.create_task(self._connect(connection))
        self._handing_over.add(task)
        task.add_done_callback(self._handing_over.discard)

    async def _connect(self, connection: socket.socket) -> None:
        try:
            await self._loop.connect_accepted_socket(self._protocol_factory, connection)
        except OSError:  # the client went away before its transport was made
            connection.close()

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._loop.remove_reader(self._sock.fileno())
        if self._beating is not None:
            self._beating.cancel()
        self._stopping.set()
        self._wake()
        self._thread.join()
        self._wake_reader.close()
        self._wake_writer.close()
        self._closed.set()

    async def wait_closed(self) -> None:
        await self._closed.wait()

    # On the thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        accept_from = 0.0  # after running out of descriptors
        try:
            while not self._stopping.is_set():
                now = time.monotonic()
                # Connections waiting now are the loop's while it keeps up.
                if now >= accept_from and self._late(now) and not self._accept_on_thread():
                    accept_from = now + DESCRIPTORS_BACKOFF_S
                for key, _events in self._selector.select(TICK_S):
                    if key.fileobj is self._wake_reader:
                        self._take_adopted()
                    else:
                        self._readable(key.fileobj)  # type: ignore[arg-type]
                self._close_idle(time.monotonic())
        except Exception:  # a thread's failure is otherwise silent: probes would go unanswered
            log.exception("the thread that accepts connections failed")
            raise
        finally:
            for connection in [*self._held, *self._adopted]:
                connection.close()
            self._selector.close()

    def _accept_on_thread(self) -> bool:
        """Takes every connection waiting; False when out of file descriptors."""
        taken, out_of_descriptors = self._accepted(None)
        for connection in taken:
            connection.setblocking(False)
            self._hold(connection)
        if out_of_descriptors:
            with contextlib.suppress(RuntimeError):  # the loop is closed: the server has stopped
                self._loop.call_soon_threadsafe(self._make_room, ROOM_MADE)
        return not out_of_descriptors

    def _take_adopted(self) -> None:
        self._wake_reader.recv(4096)
        while self._adopted:
            connection = self._adopted.popleft()
            if len(self._kept) >= KEPT_MAX:  # taken meanwhile: an idle keep-alive connection may be closed
                connection.close()
                continue
            connection.setblocking(False)
            self._kept.add(connection)
            self._held[connection] = time.monotonic() + self._idle_timeout_s
            self._selector.register(connection, selectors.EVENT_READ)
            self._readable(connection)

    def _hold(self, connection: socket.socket) -> None:
        if len(self._held) - len(self._kept) >= WAITING_MAX:
            self._hand_over_now(connection)
            return
        self._held[connection] = time.monotonic() + self._idle_timeout_s
        self._selector.register(connection, selectors.EVENT_READ)
        self._readable(connection)  # its first bytes are often there already

    def _readable(self, connection: socket.socket) -> None:
        try:
            first = connection.recv(PEEK_BYTES, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._drop(connection)
            return
        if not first:  # the client hung up
            self._drop(connection)
            return
        answered = self._answer_probe(first)
        if answered is None:
            self._hand_over(connection)
            return
        try:
            connection.recv(answered.head_bytes)  # the probe's head, read at last
            sent = connection.send(answered.answer)
        except OSError:
            self._drop(connection)
            return
        if not answered.keep_alive or sent < len(answered.answer):  # a few hundred bytes fit in any buffer
            self._drop(connection)
            return
        if connection not in self._kept and len(self._kept) >= KEPT_MAX:
            self._hand_over(connection)
            return
        self._kept.add(connection)
        self._held[connection] = time.monotonic() + self._idle_timeout_s

    def _close_idle(self, now: float) -> None:
        for connection in [held for held, idle_until in self._held.items() if idle_until <= now]:
            self._drop(connection)

    def _release(self, connection: socket.socket) -> None:
        del self._held[connection]
        self._kept.discard(connection)
        self._selector.unregister(connection)

    def _drop(self, connection: socket.socket) -> None:
        self._release(connection)
        connection.close()

    def _hand_over(self, connection: socket.socket) -> None:
        self._release(connection)
        self._hand_over_now(connection)

    def _hand_over_now(self, connection: socket.socket) -> None:
        try:
            self._loop.call_soon_threadsafe(self._serve, connection)
        except RuntimeError:  # the loop is closed: the server has stopped
            connection.close()


class AcceptingServer(uvicorn.Server):
    """uvicorn's server, its listening sockets read by an Acceptor rather than by the loop alone."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if not sockets:
            raise ValueError("ovp's server listens on the sockets it is given")
        await super().startup(sockets=[])  # the application starts; nothing listens yet
        loop = asyncio.get_running_loop()
        config = self.config

        def create_protocol() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state, _loop=loop)

        answer_at_once = getattr(config.loaded_app, "answer_at_once", None)

        def answer_probe(first: bytes) -> Answered | None:
            if answer_at_once is None:
                return None
            return probe_answer(first, answer_at_once, self.server_state.default_headers)

        for sock in sockets:
            acceptor = Acceptor(loop, sock, config.backlog, create_protocol, answer_probe, config.timeout_keep_alive,
                                lambda count: close_idlest(self.server_state.connections, count))
            self.server_state.ovp_adopt = acceptor.adopt  # type: ignore[attr-defined]  # see OvpHttpProtocol
            # uvicorn only closes its servers and waits for them: an acceptor does both.
            self.servers.append(acceptor)  # type: ignore[arg-type]
