"""`python -m bench.receiver PORT MODE COUNT_FILE`: a webhook receiver for the benchmark, in a
process of its own so that it takes none of the measuring process's time. MODE ok answers every
POST 200 at once (HTTP/1.1, kept alive); hung accepts connections and never answers. On SIGTERM it
writes how many requests it answered, and how many distinct event ids it saw, to COUNT_FILE."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from pathlib import Path

EVENT_ID = re.compile(rb'"id":"([0-9a-f-]{36})","event_type"')
ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"


async def serve(port: int, mode: str, count_file: Path) -> None:
    answered = 0
    seen: set[bytes] = set()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answered
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
                body = await reader.readexactly(length)
                if mode == "hung":
                    await asyncio.sleep(3600)
                found = EVENT_ID.search(body)
                if found:
                    seen.add(found.group(1))
                answered += 1
                writer.write(ANSWER)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:  # the receiver stops: a handler ended quietly prints no traceback
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=1024)
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    async with server:
        await stopped.wait()
    count_file.write_text(f"{answered} {len(seen)}\n")


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
