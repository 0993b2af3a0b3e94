"""`python -m bench.http_clients`: the CPU a webhook POST costs the sender, with httpx, with aiohttp
and with ovp's own client (ovp.webhooks.client, the one it uses), on asyncio's loop and on uvloop.

Each client posts REQUESTS bodies of an event's size, IN_FLIGHT at once (the sender's), to
`bench.receiver` in a process of its own, and reports the requests a CPU second of its own process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import uvloop

from bench.webhooks import receiver
from ovp.webhooks import attempts
from ovp.webhooks.client import Client

REQUESTS = 6_000
IN_FLIGHT = 64
BODY = b'{"data":{"record_type":"event","payload":{"call_control_id":"v3:1293384261075731499"}}}' * 9


async def _httpx(url: str) -> None:
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)
    async with httpx.AsyncClient(limits=limits) as client:
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def one() -> None:
            async with slots:
                (await client.post(url, content=BODY, headers={"content-type": "application/json"})).raise_for_status()

        await asyncio.gather(*(one() for _ in range(REQUESTS)))


async def _aiohttp(url: str) -> None:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as session:
        slots = asyncio.Semaphore(IN_FLIGHT)

        async def one() -> None:
            async with slots, session.post(url, data=BODY, headers={"content-type": "application/json"}) as answer:
                answer.raise_for_status()
                await answer.read()

        await asyncio.gather(*(one() for _ in range(REQUESTS)))


async def _ovp(url: str) -> None:
    client = Client(attempts.KEPT_BYTES)
    slots = asyncio.Semaphore(IN_FLIGHT)

    async def one() -> None:
        async with slots:
            answer = await client.post(url, [("content-type", "application/json")], BODY, 10)
            assert 200 <= answer.status < 300, answer

    await asyncio.gather(*(one() for _ in range(REQUESTS)))
    await client.close()


CLIENTS: dict[str, Callable[[str], Coroutine[Any, Any, None]]] = {"httpx": _httpx, "aiohttp": _aiohttp, "ovp": _ovp}


def _one(client: str, loop: str, url: str) -> None:
    """In a process of its own, so that each measure starts from a fresh interpreter."""
    started = time.process_time()
    (uvloop.run if loop == "uvloop" else asyncio.run)(CLIENTS[client](url))
    cpu_s = time.process_time() - started
    print(f"{client} on {loop}: {REQUESTS / cpu_s:,.0f} requests a CPU second ({cpu_s:.2f} s for {REQUESTS:,})")


def main() -> int:
    if len(sys.argv) == 4:
        _one(*sys.argv[1:])
        return 0
    with tempfile.TemporaryDirectory(prefix="ovp-clients-") as tmp, receiver("ok", Path(tmp)) as listening:
        for _round in range(2):
            for client in CLIENTS:
                for loop in ("asyncio", "uvloop"):
                    subprocess.run([sys.executable, "-m", "bench.http_clients", client, loop, listening.url],
                                   check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
