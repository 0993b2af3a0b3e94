"""The plans PostgreSQL makes for ovp's lookups of one call, and of a batch of webhook events, on a
new database.

asyncpg prepares every statement, and after a few runs PostgreSQL may keep one generic plan for it,
made with the statistics of the moment: on a new database, of an empty table. A call looked up
by (account, id) was then read through an index led by the account alone, scanning every call of
the account, and the lookup slowed as calls accumulated (1 ms after 10,000, 8 ms after 20,000)
until the table was next analysed. These tests plan each such statement generically on empty
tables and check that no call is looked for among all the account's calls, and that a call's
profile is reached by its primary key. (An index of active calls may still serve the lookup of
one: its scan is bounded by the calls in progress, and the plan is made again once autovacuum has
analysed the table.) The webhook sender's batches, whose generic plans do scan the whole table,
are planned for each run instead, and checked so once the table has grown.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from ovp.store import calls, webhooks
from ovp.store.database import Statement
from ovp.store.postgres import DIALECT
from tests.databases import SKIPPED_REASON, postgres_admin_url, scratch_postgres_connection

pytestmark = pytest.mark.skipif(postgres_admin_url() is None, reason=SKIPPED_REASON)

LOOKUP = {"owner": "account", "call_id": 7, "ended_ms": 1, "duration_secs": 1, "billed_secs": 1,
          "cost_micros": 1, "day": "2026-01-01"}


@pytest.fixture(scope="module")
def empty_database() -> Iterator[psycopg.Connection]:
    with scratch_postgres_connection(cursor_factory=psycopg.ClientCursor) as connection:
        connection.execute("SET plan_cache_mode = force_generic_plan")
        yield connection


def _generic_plan(connection: psycopg.Connection, statement: Statement) -> str:
    compiled = statement.compiled(DIALECT)
    connection.execute("DEALLOCATE ALL")
    connection.execute(f"PREPARE lookup AS {compiled.sql}")
    return _plan(connection, "lookup", compiled.arguments(LOOKUP))


@pytest.mark.parametrize("name", ["_SELECT", "_SELECT_FOR_UPDATE", "_SELECT_WITH_PROFILE_FOR_UPDATE",
                                  "_END", "_END_AT_ONCE"])
def test_a_call_is_not_looked_for_among_all_the_accounts_calls(empty_database: psycopg.Connection,
                                                               name: str) -> None:
    plan = _generic_plan(empty_database, getattr(calls, name))
    scans = [line for line in plan.splitlines() if "Scan" in line and "call_authorizations" in line]
    assert scans, plan
    assert all("call_authorizations_pkey" in scan or "_active" in scan for scan in scans), plan


@pytest.mark.parametrize("name", ["_SELECT_WITH_PROFILE_FOR_UPDATE", "_END_AT_ONCE"])
def test_the_profile_of_a_call_is_found_by_its_primary_key(empty_database: psycopg.Connection, name: str) -> None:
    plan = _generic_plan(empty_database, getattr(calls, name))
    profile_scan = plan.split("outbound_voice_profiles_pkey", 1)[1].split("\n")[1]
    assert "Index Cond" in profile_scan, plan
    # both columns of the key, not the account alone
    assert "account_id" in profile_scan, plan
    assert " AND " in profile_scan, plan


EVENTS = {"events": ["e1", "e2"], "until_ms": 1, "statuses": ["delivered", "pending"], "next_ms": [1, 2],
          "attempts": ["[]", "[]"], "attempt_counts": [1, 1], "finished_ms": [1, None], "owners": ["account"],
          "call_ids": [7], "seqs": [1], "now_ms": 1}
_MANY_EVENTS = (
    "INSERT INTO webhook_events (id, event_id, account_id, call_id, seq, connection_id, event_type, payload, "
    "created_ms, status, next_attempt_ms, attempt_count, attempts) SELECT n::text, n::text, 'account', n, 1, 1, "
    "'call.initiated', repeat('x', 900), 0, 'pending', 0, 0, '[]' FROM generate_series(1, 5000) AS n"
)


def test_the_senders_batches_are_planned_for_the_table_as_it_has_grown() -> None:
    """The sender's batches on PostgreSQL, one statement over arrays each. Prepared and run while
    the table was empty (a new database), each keeps a generic plan that scans the whole table, and
    would go on scanning it as it grows, until its next ANALYZE; planned for each run, as the
    sender's transactions ask (PLAN_EACH_RUN), each finds its rows by index."""
    names = ["_CLAIM_ALL", "_FINISH_ALL", "_NEXT_OF_CALLS"]
    with scratch_postgres_connection(cursor_factory=psycopg.ClientCursor) as connection:
        for name in names:
            compiled = getattr(webhooks, name).compiled(DIALECT)
            connection.execute(f"PREPARE {name} AS {compiled.sql}")
            for _run in range(8):  # past PostgreSQL's five custom plans: then it keeps the generic one
                _prepared(connection, f"EXECUTE {name}", compiled.arguments(EVENTS))
        connection.execute(_MANY_EVENTS)
        kept: list[str] = []
        for name in names:
            arguments = getattr(webhooks, name).compiled(DIALECT).arguments(EVENTS)
            kept.append(_plan(connection, name, arguments))
            with connection.transaction(force_rollback=True):
                connection.execute(webhooks.PLAN_EACH_RUN)
                plan = _plan(connection, name, arguments)
            assert "webhook_events_pkey" in plan or "ix_webhook_events_call" in plan, plan
            assert "Seq Scan on webhook_events" not in plan, plan
        # what the plans kept from the empty table do (the claim's and the results'): why each run is planned
        assert sum("Seq Scan on webhook_events" in plan for plan in kept) >= 2, kept


def _prepared(connection: psycopg.Connection, command: str, arguments: tuple[object, ...]) -> psycopg.Cursor[Any]:
    """`command` (EXECUTE name, or EXPLAIN EXECUTE name) with the prepared statement's arguments."""
    return connection.execute(f"{command}({', '.join(['%s'] * len(arguments))})", arguments)


def _plan(connection: psycopg.Connection, name: str, arguments: tuple[object, ...]) -> str:
    return "\n".join(row[0] for row in _prepared(connection, f"EXPLAIN EXECUTE {name}", arguments).fetchall())
