"""`python -m bench.receiver PORT MODE COUNT_FILE`: a webhook receiver for the benchmark, in a
process of its own so that it takes none of the measuring process's time. MODE ok answers every
POST 200 at once (HTTP/1.1, kept alive); hung accepts connections and never answers. On SIGTERM it
writes how many requests it answered, and how many distinct event ids it saw, to COUNT_FILE.

It stands in for the customer's application, which runs on a machine of its own: on the one the
benchmark shares with ovp it should take as little of the CPU as it can, so it parses with
httptools on uvloop (at some 1,900 events a second, 0.075 of a core this way against 0.13 with
asyncio's streams)."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

import httptools
import uvloop

EVENT_ID = re.compile(rb'"id":"([0-9a-f-]{36})","event_type"')
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


class Counts:
    def __init__(self) -> None:
        self.answered = 0
        self.seen: set[bytes] = set()


class ReceiverProtocol(asyncio.Protocol):
    def __init__(self, counts: Counts, answers: bool) -> None:
        self._counts = counts
        self._answers = answers
        self._parser = httptools.HttpRequestParser(self)
        self._body: list[bytes] = []
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            if self._transport is not None:
                self._transport.close()

    # httptools' callbacks
    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        body, self._body = b"".join(self._body), []
        if not self._answers or self._transport is None:
            return
        found = EVENT_ID.search(body)
        if found:
            self._counts.seen.add(found.group(1))
        self._counts.answered += 1
        self._transport.write(ANSWER)


async def serve(port: int, mode: str, count_file: Path) -> None:
    counts = Counts()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: ReceiverProtocol(counts, answers=mode != "hung"), "127.0.0.1", port,
                                      backlog=1024)
    stopped = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    async with server:
        await stopped.wait()
    count_file.write_text(f"{counts.answered} {len(counts.seen)}\n")


if __name__ == "__main__":
    uvloop.run(serve(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
