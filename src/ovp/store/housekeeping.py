"""Vacuuming ovp's busiest tables where PostgreSQL does not.

Every call's end updates its row, and every authorization reads the allowed calls' indexes; on
PostgreSQL an updated row leaves a dead one behind, which autovacuum reclaims, and autovacuum's
ANALYZE keeps the planner's picture of each table true. With autovacuum off (`autovacuum = off`
in postgresql.conf) neither happens: the dead rows pile up in the indexes every authorization
reads, and statements stay planned as on the empty tables of the first start. Measured with
`make soak` on such a server, throughput fell by a fifth within minutes while the index entries
read per scan grew (the soak prints them, from pg_stat_user_indexes).

So where autovacuum is off, each server vacuums those tables itself, every VACUUM_INTERVAL_S, one
server at a time (an advisory lock), and says so in its log. VACUUM takes no lock that a read or
write of a row waits for. A table is analyzed too when a tenth of it changed since its last
ANALYZE, as autovacuum decides (see _TO_ANALYZE): ANALYZE reads a sample of up to 30,000 rows and
works out each column's statistics, so analyzing every table each time cost more, round after
round, as the tables grew (measured with `make soak`: the analyses' share of PostgreSQL's work
grew minute by minute, the vacuums' stayed out of sight).

A young table (a new database's) is planned on guesses, and the plans made on it stay: asyncpg
prepares every statement, and PostgreSQL keeps the generic plan it makes after a few runs until the
table is next analyzed. Made at a few hundred calls, never analyzed, the plan of an authorization's
counters counted the calls of a profile to one number by scanning every call of the account (its
primary key is the narrower index); made on the statistics of a table of 60 calls, it read the
whole table (a sequential scan is the cheapest way through one page), and went on doing so as the
calls grew, until the next ANALYZE: with autovacuum, up to a minute later (its naptime); without,
VACUUM_INTERVAL_S. So, whether autovacuum is on or not, each server applies autovacuum's rule
(below) every YOUNG_POLL_S to each table of fewer than YOUNG_ROWS rows, from 50 rows changed on:
the statistics, and the plans, follow a young table as it grows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator

import asyncpg

log = logging.getLogger("ovp")
VACUUM_INTERVAL_S = 30.0
YOUNG_POLL_S = 1.0
YOUNG_ROWS = 100_000  # a table of more is analyzed by autovacuum's rounds, or ovp's own
# Where autovacuum is on, how long a server looks for young tables after it starts: a table first
# used later waits for autovacuum's next round (its naptime), and the server holds no connection for it.
YOUNG_WATCH_S = 600.0
CONNECT_TIMEOUT_S = 5.0
# The tables whose rows ovp updates or deletes as calls come and go, or whose plans matter most
# (a webhook event's row is updated when it is claimed and when it is delivered).
TABLES = ("call_authorizations", "daily_spend", "call_refusals", "outbound_voice_profiles", "connections",
          "accounts", "webhook_events")
# The tables due an ANALYZE by autovacuum's own rule, with its default settings
# (autovacuum_analyze_threshold 50, autovacuum_analyze_scale_factor 0.1): rows inserted, updated or
# deleted since the last ANALYZE exceed 50 and a tenth of the table's rows.
_DUE_AN_ANALYZE = "n_mod_since_analyze > 50 + 0.1 * n_live_tup"
_TO_ANALYZE = (f"SELECT relname FROM pg_stat_user_tables "  # noqa: S608 (no input)
               f"WHERE relname = ANY($1::text[]) AND {_DUE_AN_ANALYZE}")
# The young tables, and whether each is due an ANALYZE by autovacuum's rule.
_YOUNG = (f"SELECT relname, {_DUE_AN_ANALYZE} FROM pg_stat_user_tables "  # noqa: S608 (no input)
          "WHERE relname = ANY($1::text[]) AND n_live_tup < $2")
# pg_try_advisory_lock's key: "ovp-vacu" as a 64-bit integer.
_LOCK_KEY = int.from_bytes(b"ovp-vacu", "big", signed=True)


async def autovacuum_on(connection: asyncpg.Connection) -> bool:
    return bool(await connection.fetchval("SELECT current_setting('autovacuum') = 'on'"))


async def _connect(dsn: str) -> asyncpg.Connection:
    return await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S, server_settings={
        "application_name": "ovp-housekeeping", "statement_timeout": "0", "jit": "off"})


@contextlib.asynccontextmanager
async def _alone(connection: asyncpg.Connection) -> AsyncIterator[bool]:
    """Whether this server holds the housekeeping's lock (another server may be at it), until the end."""
    if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
        yield False
        return
    try:
        yield True
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def vacuum_once(connection: asyncpg.Connection) -> bool:
    """Vacuums the tables, and analyzes those that changed enough, unless another server is at it;
    answers whether it did."""
    async with _alone(connection) as alone:
        if alone:
            to_analyze = {row[0] for row in await connection.fetch(_TO_ANALYZE, list(TABLES))}
            for table in TABLES:
                await connection.execute(f"VACUUM (ANALYZE) {table}" if table in to_analyze else f"VACUUM {table}")
        return alone


async def analyze_young(connection: asyncpg.Connection) -> bool:
    """Analyzes the young tables due an ANALYZE, unless another server is at it; answers whether
    any table is still young."""
    young = await connection.fetch(_YOUNG, list(TABLES), YOUNG_ROWS)
    due = [name for name, changed in young if changed]
    if due:
        async with _alone(connection) as alone:
            for table in due if alone else []:
                await connection.execute(f"ANALYZE {table}")
    return bool(young)


async def keep_house(dsn: str, interval_s: float = VACUUM_INTERVAL_S, poll_s: float = YOUNG_POLL_S,
                     young_watch_s: float = YOUNG_WATCH_S) -> None:
    """Runs until cancelled, or until there is nothing left to do: analyzes the tables while young
    (see analyze_young), looking every `poll_s` while any is young (where autovacuum is on, for
    `young_watch_s` at most), and, where autovacuum is off, vacuums every `interval_s`
    (jittered, so that servers started together take turns). A failure is logged, and it tries
    again on a new connection."""
    watch_until = time.monotonic() + young_watch_s
    warned = False
    while True:
        try:
            connection = await _connect(dsn)
            try:
                vacuums = not await autovacuum_on(connection)
                if vacuums and not warned:
                    log.warning("autovacuum is off on this PostgreSQL server: ovp vacuums its own tables every %g s "
                                "and analyzes those a tenth of which changed; turn autovacuum on to leave it to "
                                "PostgreSQL", interval_s)
                    warned = True
                young = True
                vacuum_at = time.monotonic() + _jittered(interval_s)
                while young or vacuums:
                    if young:
                        young = await analyze_young(connection) and (vacuums or time.monotonic() < watch_until)
                    if vacuums and time.monotonic() >= vacuum_at:
                        await vacuum_once(connection)
                        vacuum_at = time.monotonic() + _jittered(interval_s)
                    waits = ([poll_s] if young else []) + ([vacuum_at - time.monotonic()] if vacuums else [])
                    await asyncio.sleep(max(min(waits), 0.0))
                return
            finally:
                await connection.close(timeout=CONNECT_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("vacuuming or analyzing ovp's tables failed (%s); trying again in %g s", error, interval_s)
            await asyncio.sleep(interval_s)


def _jittered(seconds: float) -> float:
    return seconds * random.uniform(0.8, 1.2)  # jitter, not a secret
