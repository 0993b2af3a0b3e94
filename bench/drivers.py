"""asyncpg against psycopg's asynchronous connection, on the work a group commit sends.

A group of `--group` works in one transaction, as ovp's group commit runs them: each work locks a
row (SELECT ... FOR UPDATE) and updates it, as an authorization locks its profile and records
the call, or a PATCH reads and writes its profile. Four ways to send it:

- asyncpg, one round trip a statement (what ovp does for an authorization or an end);
- psycopg, one round trip a statement;
- psycopg in pipeline mode, every statement of the group sent before any answer is read (what a
  group can do when no statement needs an earlier one's answer, as a group of PATCHes);
- asyncpg, the SELECTs one by one and the group's UPDATEs in one `executemany` (what ovp does for
  a group of PATCHes).

On uvloop, as ovp serves. For each, the client's CPU per work (what bounds a 2-core machine, where the server and
PostgreSQL share the cores) and the time a group takes. Each way runs `--rounds` times, taking
turns, and the median is shown. `python -m bench.drivers` (`make bench-drivers`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence

import asyncpg
import psycopg
import uvloop
from sqlalchemy.engine import make_url
from tests.databases import scratch_postgres_database

ROWS = 100
SELECT = "SELECT n FROM ovp_driver_row WHERE id = $1 FOR UPDATE"
UPDATE = "UPDATE ovp_driver_row SET n = n + 1 WHERE id = $1"
# psycopg's placeholders for the same statements.
SELECT_PSYCOPG = SELECT.replace("$1", "%s")
UPDATE_PSYCOPG = UPDATE.replace("$1", "%s")

Group = Callable[[list[int]], Awaitable[None]]


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _measure(send: Group, groups: int, size: int) -> tuple[float, float]:
    """Client CPU µs per work and ms per group, over `groups` groups of `size` works."""
    ids = [[(group * size + work) % ROWS + 1 for work in range(size)] for group in range(groups)]
    cpu, wall = time.process_time(), time.perf_counter()
    for group in ids:
        await send(group)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / (groups * size) * 1e6, wall / groups * 1e3


async def _ways(dsn: str) -> dict[str, tuple[Group, Callable[[], Awaitable[None]]]]:
    """Each way of sending a group, with what closes its connection."""
    pg = await asyncpg.connect(dsn, statement_cache_size=1024)
    pg_many = await asyncpg.connect(dsn, statement_cache_size=1024)
    ps = await psycopg.AsyncConnection.connect(dsn, prepare_threshold=0)
    ps_pipeline = await psycopg.AsyncConnection.connect(dsn, prepare_threshold=0)

    async def asyncpg_each(ids: list[int]) -> None:
        async with pg.transaction():
            for row in ids:
                await pg.fetchval(SELECT, row)
                await pg.execute(UPDATE, row)

    async def psycopg_each(ids: list[int]) -> None:
        async with ps.transaction(), ps.cursor() as cursor:
            for row in ids:
                await cursor.execute(SELECT_PSYCOPG, (row,))
                await cursor.fetchone()
                await cursor.execute(UPDATE_PSYCOPG, (row,))

    async def psycopg_pipeline(ids: list[int]) -> None:
        async with ps_pipeline.transaction(), ps_pipeline.pipeline(), ps_pipeline.cursor() as cursor:
            for row in ids:
                await cursor.execute(SELECT_PSYCOPG, (row,))
                await cursor.execute(UPDATE_PSYCOPG, (row,))

    async def asyncpg_executemany(ids: list[int]) -> None:
        async with pg_many.transaction():
            for row in ids:
                await pg_many.fetchval(SELECT, row)
            await pg_many.executemany(UPDATE, [(row,) for row in ids])

    return {
        "asyncpg, a round trip a statement": (asyncpg_each, pg.close),
        "psycopg, a round trip a statement": (psycopg_each, ps.close),
        "psycopg, pipeline mode": (psycopg_pipeline, ps_pipeline.close),
        "asyncpg, UPDATEs in one executemany": (asyncpg_executemany, pg_many.close),
    }


async def run(url: str, *, size: int, groups: int, rounds: int) -> dict[str, tuple[float, float]]:
    """The median (µs of client CPU per work, ms per group) of each way."""
    dsn = _libpq(url)
    setup = await asyncpg.connect(dsn)
    await setup.execute("CREATE TABLE ovp_driver_row (id bigint PRIMARY KEY, n bigint NOT NULL)")
    await setup.execute("INSERT INTO ovp_driver_row SELECT g, 0 FROM generate_series(1, $1::int) g", ROWS)
    await setup.close()
    ways = await _ways(dsn)
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in ways}
    try:
        for send, _close in ways.values():  # warm up: statements prepared, caches filled
            await _measure(send, 20, size)
        for _round in range(rounds):
            for name, (send, _close) in ways.items():
                samples[name].append(await _measure(send, groups, size))
    finally:
        for _send, close in ways.values():
            await close()
    return {name: (statistics.median(cpu for cpu, _wall in runs), statistics.median(wall for _cpu, wall in runs))
            for name, runs in samples.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.drivers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--group", type=int, default=16, help="works a group holds (%(default)s)")
    parser.add_argument("--groups", type=int, default=300, help="groups a run sends (%(default)s)")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each way, taking turns (%(default)s)")
    options = parser.parse_args(argv)
    with scratch_postgres_database(options.postgres_url) as url:
        # On uvloop, as ovp's server runs.
        results = uvloop.run(run(url, size=options.group, groups=options.groups, rounds=options.rounds))
    print(f"a group of {options.group} works (SELECT ... FOR UPDATE, then UPDATE, each), "
          f"median of {options.rounds} runs of {options.groups} groups:\n")
    print("| way | client CPU per work | time per group |")
    print("|---|--:|--:|")
    for name, (cpu_us, wall_ms) in results.items():
        print(f"| {name} | {cpu_us:.0f} µs | {wall_ms:.2f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
