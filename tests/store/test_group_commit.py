"""Group commit, on real databases: a failing work fails alone, a database that cannot serve fails
the whole group at once, and a work whose caller went away is not run."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from ovp.domain.errors import NotFound, ServiceUnavailable
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import parse_list_query
from ovp.services import profiles
from ovp.store.backends import open_database
from ovp.store.database import Database, Transaction

ACCOUNT = "group-commit"
T = TypeVar("T")


def _run(url: str, scenario: Callable[[Database], Awaitable[T]], *, timeout_s: float = 5.0,
         migrate: bool = True) -> T:
    async def main() -> T:
        database = open_database(url, timeout_s=timeout_s)
        if migrate:
            await database.migrate()
        await database.start()
        try:
            return await scenario(database)
        finally:
            await database.close()

    return asyncio.run(main())


def _create(name: str, ids: IdGenerator) -> Callable[[Transaction], Any]:
    return lambda tx: profiles.create(tx, ACCOUNT, {"name": name}, ids)


def _names(tx: Transaction) -> set[str]:
    page, _meta = profiles.list_page(tx, ACCOUNT, parse_list_query({"page[size]": "250"}))
    return {profile["name"] for profile in page}


def _missing(tx: Transaction) -> None:
    raise NotFound()


def test_a_failing_work_fails_alone(file_database_url: str) -> None:
    ids = IdGenerator()

    async def scenario(database: Database) -> tuple[list[Any], set[str]]:
        answers = await asyncio.gather(
            database.write(_create("first", ids)), database.write(_missing), database.write(_create("third", ids)),
            return_exceptions=True,
        )
        return list(answers), await database.read(_names)

    answers, stored = _run(file_database_url, scenario)
    assert answers[0].value["name"] == "first"
    assert isinstance(answers[1], NotFound)
    assert answers[2].value["name"] == "third"
    assert stored == {"first", "third"}


def _locked(path: Path) -> sqlite3.Connection:
    """Another process's view: a connection that takes SQLite's write lock and keeps it."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_database_that_cannot_serve_fails_the_whole_group_at_once(tmp_path: Path) -> None:
    path = tmp_path / "ovp.db"
    url, timeout_s, ids = f"sqlite:///{path}", 0.5, IdGenerator()
    _run(url, lambda database: database.read(_names))  # migrated
    holder = _locked(path)

    async def scenario(database: Database) -> tuple[list[Any], float]:
        began = time.monotonic()
        answers = await asyncio.gather(*(database.write(_create(f"w{n}", ids)) for n in range(5)),
                                       return_exceptions=True)
        return answers, time.monotonic() - began

    try:
        answers, seconds = _run(url, scenario, timeout_s=timeout_s, migrate=False)
    finally:
        holder.close()
    assert all(isinstance(answer, ServiceUnavailable) for answer in answers), answers
    assert seconds < 2 * timeout_s, f"{seconds:.2f} s: the works waited one after another"


def test_a_work_whose_caller_went_away_is_not_run(tmp_path: Path) -> None:
    path = tmp_path / "ovp.db"
    url, ids = f"sqlite:///{path}", IdGenerator()
    _run(url, lambda database: database.read(_names))
    holder = _locked(path)

    async def scenario(database: Database) -> set[str]:
        first = asyncio.ensure_future(database.write(_create("kept", ids)))  # its group waits for the lock
        await asyncio.sleep(0.05)
        gone = asyncio.ensure_future(database.write(_create("gone", ids)))  # waits for the next group
        await asyncio.sleep(0.05)
        gone.cancel()
        await asyncio.sleep(0.05)
        holder.execute("ROLLBACK")
        await first
        await asyncio.sleep(0.1)  # the next group, had there been one
        return await database.read(_names)

    try:
        assert _run(url, scenario, migrate=False) == {"kept"}
    finally:
        holder.close()
