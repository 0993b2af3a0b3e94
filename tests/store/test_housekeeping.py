"""ovp's own vacuuming, on a PostgreSQL server whose autovacuum is off, and its absence where it is on."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import psycopg
import pytest
from sqlalchemy.engine import make_url

from ovp.store import housekeeping
from tests.databases import SKIPPED_REASON, postgres_admin_url, scratch_postgres_database

pytestmark = pytest.mark.skipif(postgres_admin_url() is None, reason=SKIPPED_REASON)


@pytest.fixture
def libpq() -> Iterator[str]:
    admin_url = postgres_admin_url()
    assert admin_url is not None
    with scratch_postgres_database(admin_url) as url:
        yield make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _vacuumed(libpq: str) -> dict[str, int]:
    with psycopg.connect(libpq, autocommit=True) as connection:
        rows = connection.execute("SELECT relname, vacuum_count + autovacuum_count "
                                  "FROM pg_stat_user_tables WHERE relname = ANY(%s)",
                                  (list(housekeeping.TABLES),)).fetchall()
    return {name: int(count) for name, count in rows}


def test_where_autovacuum_is_off_ovp_vacuums_its_tables_one_server_at_a_time(libpq: str) -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        first, second = await asyncpg.connect(libpq), await asyncpg.connect(libpq)
        try:
            on = await housekeeping.autovacuum_on(first)
            await first.execute("SELECT pg_advisory_lock($1)", housekeeping._LOCK_KEY)  # another server at it
            skipped = not await housekeeping.vacuum_once(second)
            await first.execute("SELECT pg_advisory_unlock($1)", housekeeping._LOCK_KEY)
            return on, skipped, await housekeeping.vacuum_once(second)
        finally:
            await first.close()
            await second.close()

    before = _vacuumed(libpq)
    _on, skipped, done = asyncio.run(scenario())
    assert skipped  # another server held the lock
    assert done
    # The statistics collector reports a little after the fact.
    for _ in range(50):
        after = _vacuumed(libpq)
        if all(after[table] > before.get(table, 0) for table in housekeeping.TABLES):
            break
        asyncio.run(asyncio.sleep(0.1))
    assert all(after[table] > before.get(table, 0) for table in housekeeping.TABLES), (before, after)


def test_the_housekeeper_keeps_at_it_only_where_autovacuum_is_off(libpq: str) -> None:
    async def scenario() -> tuple[bool, bool]:
        connection = await asyncpg.connect(libpq)
        try:
            on = await housekeeping.autovacuum_on(connection)
        finally:
            await connection.close()
        keeper = asyncio.create_task(housekeeping.keep_vacuumed(libpq, interval_s=0.05))
        await asyncio.sleep(1.0)
        finished = keeper.done()
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        return on, finished

    before = _vacuumed(libpq)
    on, finished = asyncio.run(scenario())
    assert finished == on  # it stops at once where PostgreSQL vacuums, and keeps going where it does not
    if not on:
        for _ in range(50):
            if _vacuumed(libpq)["call_authorizations"] > before.get("call_authorizations", 0):
                break
            asyncio.run(asyncio.sleep(0.1))
        assert _vacuumed(libpq)["call_authorizations"] > before.get("call_authorizations", 0)
