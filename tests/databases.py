"""The databases the suite runs on: SQLite always, and PostgreSQL: the one OVP_TEST_POSTGRES_URL
names, or else the local one (postgres@127.0.0.1:5432) when it answers.

A PostgreSQL run creates a database of its own (named after the process and a random suffix),
migrates it once, empties it after each test, and drops it at the end of the run, so that the
server it points at is left as it was found.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ovp.store.backends import open_database
from ovp.store.database import Database, Work
from ovp.store.schema import metadata

POSTGRES_VARIABLE = "OVP_TEST_POSTGRES_URL"
# Where a machine set up as the README says has PostgreSQL (trust authentication, as Debian's
# package sets it up for local connections).
LOCAL_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_CONNECT_TIMEOUT_S = 2
SKIPPED_REASON = (f"{POSTGRES_VARIABLE} is not set and no PostgreSQL answers at {LOCAL_POSTGRES_URL}: "
                  "the PostgreSQL tests were skipped")
# Every table of ovp's data; the probe's row stays.
TABLES = tuple(name for name in metadata.tables if name != "ovp_probe")
EMPTYING_ATTEMPTS = 5
T = TypeVar("T")


def postgres_admin_url() -> str | None:
    """The PostgreSQL server the suite may create databases on: the variable's, or the local one
    when it answers; None when neither."""
    return os.environ.get(POSTGRES_VARIABLE) or (LOCAL_POSTGRES_URL if _local_postgres_answers() else None)


def postgres_source() -> str:
    """Where postgres_admin_url() came from, for the run's last line."""
    return POSTGRES_VARIABLE if os.environ.get(POSTGRES_VARIABLE) else "the local server, which answered"


@cache
def _local_postgres_answers() -> bool:
    try:
        with psycopg.connect(LOCAL_POSTGRES_URL, connect_timeout=LOCAL_CONNECT_TIMEOUT_S):
            return True
    except psycopg.Error:
        return False


def backends() -> list[object]:
    """Parameters for a fixture that runs its tests on each backend."""
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgresql",
            id="postgresql",
            marks=pytest.mark.skipif(postgres_admin_url() is None, reason=SKIPPED_REASON),
        ),
    ]


def libpq_url(url: str) -> str:
    """psycopg takes the URL without SQLAlchemy's driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class BlockingDatabase:
    """The store driven from synchronous test code: each call runs to its end on an event loop of
    this object's own (so one per thread)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.database: Database = open_database(url)
        self._loop = asyncio.new_event_loop()

    def run(self, operation: Coroutine[Any, Any, T]) -> T:
        return self._loop.run_until_complete(operation)

    def write(self, work: Work[T]) -> T:
        return self._loop.run_until_complete(self.database.write(work))

    def read(self, work: Work[T]) -> T:
        return self._loop.run_until_complete(self.database.read(work))

    def read_one(self, work: Work[T]) -> T:
        return self._loop.run_until_complete(self.database.read_one(work))

    def close(self) -> None:
        try:
            self._loop.run_until_complete(self.database.close())
        finally:
            self._loop.close()


@contextmanager
def migrated_database(url: str) -> Iterator[BlockingDatabase]:
    """The database at `url`, brought up to date, and closed at the end of the block."""
    opened = BlockingDatabase(url)
    try:
        opened.run(opened.database.migrate())
        yield opened
    finally:
        opened.close()


@contextmanager
def scratch_postgres_database(admin_url: str, *, migrated: bool = True) -> Iterator[str]:
    """A new database on the server of `admin_url` (migrated, or empty), dropped afterwards."""
    name = f"ovp_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    if migrated:
        with migrated_database(url):
            pass
    try:
        yield url
    finally:
        with psycopg.connect(libpq_url(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_postgres_connection(**options: Any) -> Iterator[psycopg.Connection]:
    """A psycopg connection, in autocommit, to a new migrated database of this run's PostgreSQL
    server, dropped afterwards; `options` go to psycopg.connect."""
    admin_url = postgres_admin_url()
    assert admin_url is not None, SKIPPED_REASON
    with scratch_postgres_database(admin_url) as url, psycopg.connect(libpq_url(url), autocommit=True,
                                                                      **options) as connection:
        yield connection


def empty_postgres_database(url: str) -> None:
    """Empties ovp's tables. The server the session's end-to-end tests share runs on this database
    too (tests/e2e/conftest.py), and its background work goes on meanwhile: its webhook sender's turn,
    every 0.15 s, locks the events' table and then reads the signing key's, which TRUNCATE, taking
    the tables in turn, may already hold. PostgreSQL then ends one of the two; when it ends
    TRUNCATE, TRUNCATE runs again."""
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        for attempt in range(1, EMPTYING_ATTEMPTS + 1):
            try:
                connection.execute(f"TRUNCATE {', '.join(TABLES)}")
                return
            except psycopg.errors.DeadlockDetected:
                if attempt == EMPTYING_ATTEMPTS:
                    raise
