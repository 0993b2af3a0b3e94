"""`python -m bench.webhook_batches`: what the webhook sender's batches cost PostgreSQL, a statement a
row (asyncpg's executemany, as SQLite still runs them) against one statement over arrays (as ovp
runs them on PostgreSQL).

In a scratch database of the local server, events of an event's size are written, then claimed,
recorded as delivered and their calls' next events drawn forward, BATCH at a time (the sender's
room), by each way in turn, ROUNDS times alternated. It reports, an event, the CPU of the scratch
database's PostgreSQL backends (read from /proc) and of this process."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from collections.abc import Callable

from sqlalchemy import text
from tests.databases import scratch_postgres_database

from bench.cpu import tree_cpu_seconds
from bench.options import DEFAULT_POSTGRES_URL
from ovp.domain.ids import random_uuid, time_ordered_uuid
from ovp.domain.webhooks.events import Event
from ovp.store import webhooks
from ovp.store.backends import open_database
from ovp.store.database import Database, Statement, Transaction
from ovp.store.webhooks import Claimed, Outcome

BATCH = 64  # the sender's slots: a claim takes at most this many events
BATCHES = 100  # a batch for each of these, a measure
ROUNDS = 3
PAYLOAD = "x" * 900  # an event's body is some 900 bytes
ACCOUNT = "bench"


def _events(first_call: int) -> list[Event]:
    return [Event(time_ordered_uuid(n), random_uuid(), first_call + n, 1, 1, "call.initiated", PAYLOAD)
            for n in range(BATCH * BATCHES)]


async def _write(database: Database, events: list[Event]) -> None:
    for start in range(0, len(events), 1000):
        def writing(tx: Transaction, chunk: list[Event] = events[start:start + 1000]) -> None:
            for event in chunk:
                webhooks.record(tx, ACCOUNT, event)
        await database.write(writing)


def _claimed(event: Event) -> Claimed:
    return Claimed(event.delivery_id, ACCOUNT, event.call_id, event.seq, event.connection_id, event.event_type,
                   event.body, 0, 0, "[]")


def _turn(batches: webhooks.Batches, events: list[Event]) -> Callable[[Transaction], None]:
    """A sender's turn without its read: claims the batch, records it delivered, draws forward
    the next event of each call."""
    def turning(tx: Transaction) -> None:
        now_ms = int(time.time() * 1000)
        claimed = [_claimed(event) for event in events]
        batches.claim(tx, [event.id for event in claimed], now_ms + 60_000)
        batches.finish(tx, [Outcome(event.id, "delivered", now_ms, "[]", 1, now_ms) for event in claimed])
        batches.draw_next(tx, claimed, now_ms)
    return turning


_BACKEND_PIDS = Statement(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"))


async def _backends_cpu_s(database: Database) -> float:
    """The CPU of every backend connected to the scratch database (the pool's, this read's own)."""
    pids = await database.read(lambda tx: [int(row[0]) for row in tx.rows(_BACKEND_PIDS)])
    return sum(tree_cpu_seconds(pid) for pid in pids)


async def _measure(url: str) -> dict[str, list[tuple[float, float]]]:
    database = open_database(url)
    await database.start()
    ways: dict[str, webhooks.Batches] = {
        "a statement a row": webhooks._RowByRow(), "one statement over arrays": webhooks._OverArrays()}
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    try:
        first_call = 0
        for _round in range(ROUNDS):
            for name, batches in ways.items():
                events = _events(first_call)
                first_call += len(events)
                await _write(database, events)
                server_before, client_before = await _backends_cpu_s(database), time.process_time()
                for start in range(0, len(events), BATCH):
                    await database.write(_turn(batches, events[start:start + BATCH]))
                server_s = await _backends_cpu_s(database) - server_before
                client_s = time.process_time() - client_before
                figures[name].append((server_s / len(events) * 1e6, client_s / len(events) * 1e6))
    finally:
        await database.close()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    options = parser.parse_args()
    with scratch_postgres_database(options.postgres_url) as url:
        figures = asyncio.run(_measure(url))
    for name, measured in figures.items():
        server = statistics.median(figure[0] for figure in measured)
        client = statistics.median(figure[1] for figure in measured)
        rounds = ", ".join(f"{figure[0]:,.0f}" for figure in measured)
        print(f"{name}: PostgreSQL's backends {server:,.0f} µs an event ({rounds}), this process {client:,.0f} µs "
              f"(claim, record and draw forward, {BATCH} events a batch, medians of {ROUNDS})")


if __name__ == "__main__":
    main()
