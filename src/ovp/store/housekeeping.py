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
"""

from __future__ import annotations

import asyncio
import logging
import random

import asyncpg

log = logging.getLogger("ovp")
VACUUM_INTERVAL_S = 30.0
CONNECT_TIMEOUT_S = 5.0
# The tables whose rows ovp updates or deletes as calls come and go, or whose plans matter most
# (a webhook event's row is updated when it is claimed and when it is delivered).
TABLES = ("call_authorizations", "daily_spend", "call_refusals", "outbound_voice_profiles", "connections",
          "accounts", "webhook_events")
# The tables due an ANALYZE by autovacuum's own rule, with its default settings
# (autovacuum_analyze_threshold 50, autovacuum_analyze_scale_factor 0.1): rows inserted, updated or
# deleted since the last ANALYZE exceed 50 and a tenth of the table's rows.
_TO_ANALYZE = ("SELECT relname FROM pg_stat_user_tables WHERE relname = ANY($1::text[]) "
               "AND n_mod_since_analyze > 50 + 0.1 * n_live_tup")
# pg_try_advisory_lock's key: "ovp-vacu" as a 64-bit integer.
_LOCK_KEY = int.from_bytes(b"ovp-vacu", "big", signed=True)


async def autovacuum_on(connection: asyncpg.Connection) -> bool:
    return bool(await connection.fetchval("SELECT current_setting('autovacuum') = 'on'"))


async def vacuum_once(connection: asyncpg.Connection) -> bool:
    """Vacuums the tables, and analyzes those that changed enough, unless another server is at it;
    answers whether it did."""
    if not await connection.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
        return False
    try:
        to_analyze = {row[0] for row in await connection.fetch(_TO_ANALYZE, list(TABLES))}
        for table in TABLES:
            await connection.execute(f"VACUUM (ANALYZE) {table}" if table in to_analyze else f"VACUUM {table}")
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    return True


async def keep_vacuumed(dsn: str, interval_s: float = VACUUM_INTERVAL_S) -> None:
    """Runs until cancelled: finds out whether autovacuum is on and, if not, vacuums every
    `interval_s` (jittered, so that servers started together take turns). A failure is logged,
    and the next round tries again on a new connection."""
    warned = False
    while True:
        try:
            connection = await asyncpg.connect(dsn, timeout=CONNECT_TIMEOUT_S, server_settings={
                "application_name": "ovp-housekeeping", "statement_timeout": "0", "jit": "off"})
            try:
                if await autovacuum_on(connection):
                    return
                if not warned:
                    log.warning("autovacuum is off on this PostgreSQL server: ovp vacuums its own tables every %g s "
                                "and analyzes those a tenth of which changed; turn autovacuum on to leave it to "
                                "PostgreSQL", interval_s)
                    warned = True
                while True:
                    await asyncio.sleep(interval_s * random.uniform(0.8, 1.2))  # jitter, not a secret
                    await vacuum_once(connection)
            finally:
                await connection.close(timeout=CONNECT_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            log.warning("vacuuming ovp's tables failed (%s); trying again in %g s", error, interval_s)
            await asyncio.sleep(interval_s)
