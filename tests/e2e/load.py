"""Concurrent HTTP load from the test process, bounded in count and in time, on loopback only."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import httpx

T = TypeVar("T")
DEADLINE_S = 120.0
# How long a client keeps an idle connection for its next request: less than the server's
# --idle-timeout (5 s), as docs/operating.md asks of clients. httpx's own default is 5 s too, and a
# connection reused just as the server closes it fails with a reset (`python -m bench.keepalive`).
KEEPALIVE_EXPIRY_S = 2.0


def run_concurrently(jobs: Sequence[Callable[[], Awaitable[T]]], concurrency: int) -> list[T]:
    """Runs every job, at most `concurrency` at a time, and answers their results in order."""

    async def main() -> list[T]:
        gate = asyncio.Semaphore(concurrency)

        async def guarded(job: Callable[[], Awaitable[T]]) -> T:
            async with gate:
                return await job()

        return await asyncio.wait_for(asyncio.gather(*(guarded(job) for job in jobs)), DEADLINE_S)

    return asyncio.run(main())


def async_client(origin: str, token: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=origin,
        headers={"Authorization": f"Bearer {token}"},
        timeout=30.0,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections,
                            keepalive_expiry=KEEPALIVE_EXPIRY_S),
    )
