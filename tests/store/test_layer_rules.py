"""The store's rules are enforced by the code: a work cannot await, and a read does only what a
read may (read_one: one SELECT; read: SELECTs)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text

from ovp.store.backends import open_database
from ovp.store.database import PROBE_WRITE, Database, LayerRuleBroken, Statement, Transaction
from ovp.store.schema import ovp_probe

SELECT_ONE = Statement(text("SELECT 1"))
# A SELECT that writes, through a data-modifying WITH (PostgreSQL's), as an authorization's does.
SELECT_THAT_WRITES = Statement(select(func.count()).select_from(
    insert(ovp_probe).values(id=2, beat=1).returning(ovp_probe.c.id).cte("written")))
BEATS = Statement(text("SELECT beat FROM ovp_probe WHERE id = 1"))


def _attempt(url: str, operation: Callable[[Database], Awaitable[Any]]) -> None:
    async def main() -> None:
        database = open_database(url)
        await database.migrate()
        try:
            await operation(database)
        finally:
            await database.close()

    asyncio.run(main())


async def _asynchronous_work(tx: Transaction) -> int:
    await asyncio.sleep(0)
    return 1


@pytest.mark.parametrize("operation", ["write", "write_long", "read", "read_one"])
def test_a_work_that_would_await_is_refused(database_url: str, operation: str) -> None:
    with pytest.raises(LayerRuleBroken, match="must not await"):
        _attempt(database_url, lambda database: getattr(database, operation)(_asynchronous_work))


def test_read_one_runs_one_statement(database_url: str) -> None:
    def twice(tx: Transaction) -> None:
        tx.rows(SELECT_ONE)
        tx.rows(SELECT_ONE)

    with pytest.raises(LayerRuleBroken, match="second statement"):
        _attempt(database_url, lambda database: database.read_one(twice))


@pytest.mark.parametrize("operation", ["read", "read_one"])
def test_a_read_runs_no_write(database_url: str, operation: str) -> None:
    with pytest.raises(LayerRuleBroken, match="not a SELECT"):
        _attempt(database_url, lambda database: getattr(database, operation)(lambda tx: tx.execute(PROBE_WRITE)))
    with pytest.raises(LayerRuleBroken, match="not a SELECT"):
        _attempt(database_url, lambda database: getattr(database, operation)(lambda tx: tx.rows(SELECT_THAT_WRITES)))


def test_a_rehearsing_database_runs_each_write_twice_and_keeps_its_effect_once(database_url: str) -> None:
    """The API tests serve with rehearse_writes: a work whose effect reaches outside its
    transaction would do it twice there, and their assertions would see it."""
    calls: list[int] = []

    def count(tx: Transaction) -> int:
        calls.append(1)
        tx.execute(PROBE_WRITE)
        return int(tx.scalar(BEATS))

    async def main() -> list[int]:
        database = open_database(database_url, rehearse_writes=True)
        await database.migrate()
        try:
            return [await database.write(count), await database.write_long(count)]
        finally:
            await database.close()

    first, second = asyncio.run(main())
    assert len(calls) == 4
    assert second == first + 1  # each write's effect kept once
