"""A TCP proxy of the tests' own, run as a process of its own so that a test can freeze it (SIGSTOP),
as a frozen host or network would freeze a database, and thaw it (SIGCONT).

    python -m tests.e2e.tcp_proxy LISTEN_PORT TARGET_HOST TARGET_PORT
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
READY_TIMEOUT_S = 10.0


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        with suppress(OSError):
            writer.close()


async def _serve(listen_port: int, target_host: str, target_port: int) -> None:
    async def relay(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(target_host, target_port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, server_writer), _pipe(server_reader, client_writer))

    server = await asyncio.start_server(relay, HOST, listen_port)
    print("listening", flush=True)
    async with server:
        await server.serve_forever()


@dataclass
class TcpProxy:
    """A running proxy process, owned by the test that started it."""

    port: int
    process: subprocess.Popen[bytes]

    def freeze(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def thaw(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        self.thaw()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_proxy(listen_port: int, target_host: str, target_port: int) -> TcpProxy:
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.tcp_proxy", str(listen_port), target_host, str(target_port)],
        cwd=root, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + READY_TIMEOUT_S
    assert process.stdout is not None
    line = process.stdout.readline()
    if b"listening" not in line or time.monotonic() > deadline:
        process.kill()
        raise RuntimeError(f"the TCP proxy did not start: {line!r}")
    return TcpProxy(listen_port, process)


if __name__ == "__main__":
    asyncio.run(_serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
