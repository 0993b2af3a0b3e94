"""A real HTTP receiver of webhooks for the tests, on a loopback port of its own: it keeps what it
was sent, and answers as a test tells it (a status, a delay, or hanging on)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: str


@dataclass
class Behaviour:
    status: int = 200
    delay_s: float = 0.0  # before answering; a long one is a hung receiver
    fail_first: int = 0  # the first requests answered 500, before `status`
    fail_types: dict[str, int] = field(default_factory=dict)  # event type -> how many of its first answered 500
    answer: bytes = b"ok"  # the body of every answer
    headers: dict[str, str] = field(default_factory=dict)  # more headers of every answer


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)  # answered with `status`
    refused: list[str] = field(default_factory=list)  # the bodies answered 500 by `fail_first`
    arrived: int = 0  # requests read whole, answered or not yet (a hung receiver's)
    behaviour: Behaviour = field(default_factory=Behaviour)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/webhooks"

    def bodies(self) -> list[str]:
        with self.lock:
            return [entry.body for entry in self.received]

    def wait_for(self, count: int, timeout_s: float = 15.0) -> list[Received]:
        """The first `count` requests received, waiting for them up to `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        with self.lock:
            raise AssertionError(f"{len(self.received)} webhooks received, {count} expected: {self.received}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start_receiver() -> Receiver:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
            behaviour = receiver.behaviour
            with receiver.lock:
                receiver.arrived += 1
            if behaviour.delay_s:
                time.sleep(behaviour.delay_s)
            event_type = json.loads(body).get("data", {}).get("event_type", "") if body else ""
            with receiver.lock:
                # One refusal spends one count: the first requests' before the event type's.
                if behaviour.fail_first > 0:
                    behaviour.fail_first -= 1
                    failing = True
                elif failing := behaviour.fail_types.get(event_type, 0) > 0:
                    behaviour.fail_types[event_type] -= 1
                if not failing:
                    receiver.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()},
                                                      body))
                else:
                    receiver.refused.append(body)
            self.send_response(500 if failing else behaviour.status)
            for name, value in behaviour.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(behaviour.answer)))
            self.end_headers()
            self.wfile.write(behaviour.answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver = Receiver(server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return receiver
