"""ovp's own vacuuming, on a PostgreSQL server whose autovacuum is off, and its absence where it is on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

import asyncpg
import psycopg
import pytest
from sqlalchemy.engine import make_url

from ovp.store import housekeeping
from tests.databases import SKIPPED_REASON, postgres_admin_url, scratch_postgres_database

pytestmark = pytest.mark.skipif(postgres_admin_url() is None, reason=SKIPPED_REASON)
T = TypeVar("T")


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


def _polled(read: Callable[[], T], done: Callable[[T], bool], seconds: float = 5.0) -> T:
    """`read()` again every 0.1 s until `done` holds of what it read or `seconds` pass; answers the
    last read. PostgreSQL's statistics count a backend's work a moment after the fact."""
    value, deadline = read(), time.monotonic() + seconds
    while not done(value) and time.monotonic() < deadline:
        time.sleep(0.1)
        value = read()
    return value


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
    after = _polled(lambda: _vacuumed(libpq),
                    lambda after: all(after[table] > before.get(table, 0) for table in housekeeping.TABLES))
    assert all(after[table] > before.get(table, 0) for table in housekeeping.TABLES), (before, after)


def test_the_housekeeper_keeps_at_it_only_where_autovacuum_is_off(libpq: str) -> None:
    async def scenario() -> tuple[bool, bool]:
        connection = await asyncpg.connect(libpq)
        try:
            on = await housekeeping.autovacuum_on(connection)
        finally:
            await connection.close()
        # Not looking for young tables: where autovacuum is on, nothing is left to do at once.
        keeper = asyncio.create_task(housekeeping.keep_house(libpq, interval_s=0.05, young_watch_s=0))
        await asyncio.sleep(1.0)
        finished = keeper.done()
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        return on, finished

    before = _vacuumed(libpq)
    on, finished = asyncio.run(scenario())
    assert finished == on  # it stops at once where PostgreSQL vacuums, and keeps going where it does not
    if not on:
        vacuumed = _polled(lambda: _vacuumed(libpq)["call_authorizations"],
                           lambda count: count > before.get("call_authorizations", 0))
        assert vacuumed > before.get("call_authorizations", 0)


# 100 of the 1,000 accounts the test makes, each time it sets their limit.
SET_FIRST_100 = ("UPDATE accounts SET channel_limit = coalesce(channel_limit, 0) + 1 "
                 "WHERE account_id IN (SELECT 'account ' || n FROM generate_series(1, 100) n)")


def _statistics(libpq: str, table: str) -> tuple[int, int, int]:
    """The table's rows changed since its last ANALYZE, its live rows, and its ANALYZE count."""
    with psycopg.connect(libpq, autocommit=True) as connection:
        row = connection.execute("SELECT n_mod_since_analyze, n_live_tup, analyze_count + autoanalyze_count "
                                 "FROM pg_stat_user_tables WHERE relname = %s", (table,)).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _changed(libpq: str, statement: str, table: str, *, changed: int) -> None:
    """Runs `statement`, then waits until PostgreSQL's statistics count `changed` rows of `table`
    changed since its last ANALYZE (a backend reports them a moment after the fact)."""
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(statement)
    found = _polled(lambda: _statistics(libpq, table), lambda found: found[0] >= changed, seconds=10.0)
    if found[0] < changed:
        raise AssertionError(f"PostgreSQL never counted {changed} rows of {table} changed: {found}")


def _vacuumed_once(libpq: str) -> None:
    async def once() -> None:
        connection = await asyncpg.connect(libpq)
        try:
            assert await housekeeping.vacuum_once(connection)
        finally:
            await connection.close()

    asyncio.run(once())


def _analyses_after(libpq: str, table: str, at_least: int) -> int:
    """The table's ANALYZE count, once it reaches `at_least` or after 5 s."""
    return _polled(lambda: _statistics(libpq, table)[2], lambda count: count >= at_least)


def test_a_table_is_analyzed_only_once_a_tenth_of_it_changed(libpq: str) -> None:
    _vacuumed_once(libpq)  # every table's first round: nothing changed, nothing analyzed
    untouched = _statistics(libpq, "daily_spend")[2]
    _changed(libpq, "INSERT INTO accounts (account_id) SELECT 'account ' || n FROM generate_series(1, 1000) n",
             "accounts", changed=1000)
    before = _statistics(libpq, "accounts")[2]
    _vacuumed_once(libpq)
    analyzed = _analyses_after(libpq, "accounts", before + 1)
    assert analyzed == before + 1  # 1,000 rows changed: more than 50 + a tenth of them
    # 100 rows of 1,000 changed: fewer than 50 + 100, so no ANALYZE yet.
    _changed(libpq, SET_FIRST_100, "accounts", changed=100)
    assert _statistics(libpq, "accounts")[1] == 1000
    _vacuumed_once(libpq)
    _vacuumed_once(libpq)
    assert _analyses_after(libpq, "accounts", analyzed + 1) == analyzed
    # 200 of them now: past the rule, analyzed on the next round.
    _changed(libpq, SET_FIRST_100, "accounts", changed=200)
    _vacuumed_once(libpq)
    assert _analyses_after(libpq, "accounts", analyzed + 1) == analyzed + 1
    assert _statistics(libpq, "daily_spend")[2] == untouched  # a table nobody wrote is never analyzed


def _accounts_made(libpq: str, first: int, count: int) -> None:
    """Accounts `first` to `first + count - 1` made, once PostgreSQL's statistics count them."""
    last = first + count - 1
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("INSERT INTO accounts (account_id) SELECT 'account ' || n "
                           "FROM generate_series(%s::int, %s::int) n", (first, last))
    counted = _polled(lambda: _statistics(libpq, "accounts")[1], lambda live: live >= last, seconds=10.0)
    assert counted >= last, f"PostgreSQL never counted {last} accounts: {counted}"


def test_a_young_table_is_analyzed_as_it_grows_by_autovacuums_rule_within_a_second(libpq: str) -> None:
    """Whether autovacuum is on or not, and long before its round or ovp's own, so that no plan made
    on a young table's guesses, or on the statistics of its first rows, outlives its growth."""

    async def watched(then: Callable[[], None]) -> None:
        keeper = asyncio.create_task(housekeeping.keep_house(libpq, interval_s=3600, poll_s=0.05))
        try:
            await asyncio.to_thread(then)
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)

    def growing() -> None:
        _accounts_made(libpq, 1, 40)
        time.sleep(0.5)  # ten looks
        assert _statistics(libpq, "accounts")[2] == 0  # 40 rows changed: not yet
        _accounts_made(libpq, 41, 20)
        assert _analyses_after(libpq, "accounts", 1) == 1  # 60: analyzed
        _accounts_made(libpq, 61, 20)
        time.sleep(0.5)
        assert _statistics(libpq, "accounts")[2] == 1  # 20 more: fewer than 50 and a tenth of 80
        _accounts_made(libpq, 81, 100)
        assert _analyses_after(libpq, "accounts", 2) == 2  # 120 more: analyzed again
        assert _statistics(libpq, "daily_spend")[2] == 0  # a table nobody wrote is left alone

    asyncio.run(watched(growing))
