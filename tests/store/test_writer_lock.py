"""The writer lock that SQLite-serving processes take in turn: exclusive, bounded, released."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from ovp.store.writer_lock import WriterLock


def test_a_second_holder_waits_then_gets_the_lock(tmp_path: Path) -> None:
    # Two locks on one path are two open file descriptions: they exclude each other as two
    # processes' locks do.
    first, second = WriterLock(str(tmp_path / "ovp.db")), WriterLock(str(tmp_path / "ovp.db"))
    order: list[str] = []

    async def hold_second() -> None:
        assert await second.acquire(time.monotonic() + 2.0)
        order.append("second held")
        second.release()

    async def scenario() -> None:
        assert await first.acquire(time.monotonic() + 2.0)
        waiting = asyncio.create_task(hold_second())
        await asyncio.sleep(0.1)  # the waiter keeps trying meanwhile, without holding the event loop
        order.append("first done")
        first.release()
        await waiting

    asyncio.run(scenario())
    assert order == ["first done", "second held"]
    assert (tmp_path / "ovp.db-writer").exists()


def test_a_lock_kept_until_the_deadline_is_not_taken(tmp_path: Path) -> None:
    holder, waiter = WriterLock(str(tmp_path / "ovp.db")), WriterLock(str(tmp_path / "ovp.db"))

    async def scenario() -> None:
        assert await holder.acquire(time.monotonic() + 1.0)
        started = time.monotonic()
        assert not await waiter.acquire(started + 0.2)
        assert 0.2 <= time.monotonic() - started < 1.0
        holder.release()
        assert await waiter.acquire(time.monotonic())  # released: taken at once
        waiter.release()

    asyncio.run(scenario())


def test_a_thread_holds_the_lock_once_the_writer_lets_it_go(tmp_path: Path) -> None:
    # A checkpoint thread takes the lock in its own way (it sleeps between its tries), against the
    # event loop's writers of its process.
    writer, thread_side = WriterLock(str(tmp_path / "ovp.db")), WriterLock(str(tmp_path / "ovp.db"))
    held: list[bool] = []

    async def scenario() -> None:
        assert await writer.acquire(time.monotonic() + 1.0)
        assert not await asyncio.to_thread(thread_side.hold, time.monotonic() + 0.1)
        waiting = asyncio.create_task(asyncio.to_thread(lambda: held.append(thread_side.hold(time.monotonic() + 2.0))))
        await asyncio.sleep(0.1)
        assert held == []
        writer.release()
        await waiting
        assert not await writer.acquire(time.monotonic() + 0.05)  # the thread holds it now
        thread_side.release()

    asyncio.run(scenario())
    assert held == [True]
