"""Group commit, on real databases: a failing work fails alone, a database that cannot serve fails
the whole group at once, and a work whose caller went away is not run. On PostgreSQL a group takes
in the works that arrive while it runs, up to its limit, with the same rules, and the ends of calls
in it go first, together, and the next group runs its works while the one before commits."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text

from ovp.domain.calls.authorization import Authorization
from ovp.domain.errors import NotFound, ServiceUnavailable
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import parse_list_query
from ovp.services import calls, profiles
from ovp.store import calls as calls_store
from ovp.store.backends import open_database
from ovp.store.database import Database, Statement, Transaction
from ovp.store.group_commit import LATE_UNTIL
from tests.databases import SKIPPED_REASON, empty_postgres_database, postgres_admin_url

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
    profile = profiles.resource
    return lambda tx: profile.create(tx, ACCOUNT, profile.kind.parse_new({"name": name}), ids)


def _names(tx: Transaction) -> set[str]:
    page, _meta = profiles.resource.list_page(tx, ACCOUNT, parse_list_query({"page[size]": "250"}))
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


_XID = Statement(text("SELECT pg_current_xact_id()::text"))
_SLEEP = Statement(text("SELECT pg_sleep(0.3)"))
LATE_AFTER_S = 0.05  # the works submitted this long after the first are late: the first sleeps 0.3 s


def _xid(tx: Transaction) -> str:
    return str(tx.rows(_XID)[0][0])


def _slow_xid(tx: Transaction) -> str:
    tx.rows(_SLEEP)
    return _xid(tx)


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[str]:
    yield postgres_url
    empty_postgres_database(postgres_url)


needs_postgres = pytest.mark.skipif(postgres_admin_url() is None, reason=SKIPPED_REASON)


async def _early_and_late(database: Database, late: list[Callable[[Transaction], Any]],
                          cancel_late: bool = False) -> tuple[list[Any], list[Any]]:
    """Two works at once, the first slow; the `late` ones while the first runs."""
    early = [asyncio.ensure_future(database.write(_slow_xid)), asyncio.ensure_future(database.write(_xid))]
    await asyncio.sleep(LATE_AFTER_S)
    coming = [asyncio.ensure_future(database.write(work)) for work in late]
    if cancel_late:
        await asyncio.sleep(LATE_AFTER_S)
        for future in coming:
            future.cancel()
    early_answers = await asyncio.gather(*early, return_exceptions=True)
    late_answers = await asyncio.gather(*coming, return_exceptions=True)
    return list(early_answers), list(late_answers)


@needs_postgres
def test_a_group_takes_in_the_works_that_arrive_while_it_runs(postgres: str) -> None:
    early, late = _run(postgres, lambda database: _early_and_late(database, [_xid] * 3))
    assert len(set(early + late)) == 1, (early, late)  # one transaction


@needs_postgres
def test_a_group_takes_in_late_works_only_up_to_its_limit(postgres: str) -> None:
    early, late = _run(postgres, lambda database: _early_and_late(database, [_xid] * (LATE_UNTIL + 8)))
    # The first group: the two early works and as many late ones as it may take; the next: the rest.
    assert sorted(Counter(early + late).values()) == [10, LATE_UNTIL], (early, late)


@needs_postgres
def test_a_late_work_that_fails_fails_alone(postgres: str) -> None:
    ids = IdGenerator()

    async def scenario(database: Database) -> tuple[list[Any], set[str]]:
        _early, late = await _early_and_late(database, [_create("before", ids), _missing, _create("after", ids)])
        return late, await database.read(_names)

    late, stored = _run(postgres, scenario)
    assert late[0].value["name"] == "before"
    assert isinstance(late[1], NotFound)
    assert late[2].value["name"] == "after"
    assert stored == {"before", "after"}


@needs_postgres
def test_a_late_work_whose_caller_went_away_is_not_run(postgres: str) -> None:
    ids = IdGenerator()

    async def scenario(database: Database) -> set[str]:
        await _early_and_late(database, [_create("gone", ids)], cancel_late=True)
        return await database.read(_names)

    assert _run(postgres, scenario) == set()


def _call(call_id: int, profile_id: int) -> Authorization:
    return Authorization(
        id=call_id, profile_id=profile_id, connection_id=None, dialled="+15550100", caller="+15550101",
        country="US", prefix="1", per_minute="0.6", billing_increment="60/60", reserved_micros=600_000,
        recording="{}", authorized_ms=0, expires_ms=2**62, max_duration_secs=14400, answered_ms=0)


def _inserting(call: Authorization) -> Callable[[Transaction], None]:
    return lambda tx: calls_store.insert(tx, ACCOUNT, call)


def _status(call_id: int) -> Callable[[Transaction], str]:
    def read(tx: Transaction) -> str:
        found = calls_store.get(tx, ACCOUNT, call_id)
        assert found is not None
        return found.status(0)
    return read


@needs_postgres
def test_the_ends_of_a_group_go_first_together_each_answered_its_own_row(postgres: str) -> None:
    now = datetime.now(UTC)

    async def scenario(database: Database) -> tuple[list[Any], list[Any]]:
        profile = await database.write(_create("calls", IdGenerator()))
        profile_id = int(profile.value["id"])
        for call_id in (1, 2, 3):
            await database.write(_inserting(_call(call_id, profile_id)))
        # One group: a read of call 2 asked for before the ends, call 1 ended twice, call 2 once.
        works: list[Callable[[Transaction], Any]] = [
            _status(2), calls.ending(ACCOUNT, 1, 61, now), calls.ending(ACCOUNT, 2, 1, now),
            calls.ending(ACCOUNT, 1, 5, now)]
        answers = await asyncio.gather(*(database.write(work) for work in works))
        # Alone, as the first of its group, and for a call no one has.
        alone = await asyncio.gather(database.write(calls.ending(ACCOUNT, 3, 0, now)),
                                     database.write(calls.ending(ACCOUNT, 4, 0, now)), return_exceptions=True)
        return list(answers), list(alone)

    answers, alone = _run(postgres, scenario)
    status, first, second, again = answers
    assert status == "ended"  # the ends went first
    assert (first.id, first.duration_secs, first.billed_secs, first.cost_micros) == (1, 61, 120, 1_200_000)
    assert (second.id, second.duration_secs, second.billed_secs, second.cost_micros) == (2, 1, 60, 600_000)
    assert again == first  # the first end stands
    assert (alone[0].id, alone[0].billed_secs, alone[0].cost_micros) == (3, 0, 0)
    assert isinstance(alone[1], NotFound)


_COMMIT_SLOWLY = Statement(text("SELECT pg_sleep(:seconds)"))
SLOW_COMMIT_S = 0.4


def _slow_to_commit(work: Callable[[Transaction], T]) -> Callable[[Transaction], T]:
    """`work`, its transaction held SLOW_COMMIT_S between its last work and its COMMIT (a
    statement appended, as a refusal's record is)."""
    def slow(tx: Transaction) -> T:
        tx.append(_COMMIT_SLOWLY, {"seconds": SLOW_COMMIT_S})
        return work(tx)
    return slow


async def _one_then_another(database: Database, first: Callable[[Transaction], Any],
                            then: Callable[[Transaction], Any]) -> list[tuple[Any, float]]:
    """`first` (slow to commit), and `then` once the first has run: each answer and when it came."""
    started = time.monotonic()

    async def timed(work: Callable[[Transaction], Any]) -> tuple[Any, float]:
        answer = await database.write(work)
        return answer, time.monotonic() - started

    slow = asyncio.ensure_future(timed(_slow_to_commit(first)))
    await asyncio.sleep(SLOW_COMMIT_S / 4)
    return list(await asyncio.gather(slow, timed(then)))


@needs_postgres
def test_the_next_group_runs_while_the_one_before_commits(postgres: str) -> None:
    (first, first_s), (then, then_s) = _run(postgres, lambda database: _one_then_another(database, _xid, _xid))
    assert first != then  # two transactions
    assert then_s < first_s < then_s + SLOW_COMMIT_S, (first_s, then_s)  # the second did not wait for the first


@needs_postgres
def test_a_work_of_the_next_group_waits_for_the_rows_the_one_before_holds(postgres: str) -> None:
    ids = IdGenerator()
    profile = profiles.resource

    def renamed(profile_id: int, name: str) -> Callable[[Transaction], Any]:
        return lambda tx: profile.update(tx, ACCOUNT, profile_id, profile.kind.parse_changes({"name": name}))

    async def scenario(database: Database) -> tuple[list[tuple[Any, float]], set[str]]:
        profile_id = int((await database.write(_create("before", ids))).value["id"])
        answers = await _one_then_another(database, renamed(profile_id, "first"), renamed(profile_id, "second"))
        return answers, await database.read(_names)

    ((first, first_s), (second, second_s)), stored = _run(postgres, scenario)
    assert (first.value["name"], second.value["name"]) == ("first", "second")
    assert first_s < second_s  # the second waited for the first's COMMIT
    assert stored == {"second"}
