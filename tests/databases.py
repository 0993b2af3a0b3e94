"""The databases the suite runs on: SQLite always, PostgreSQL when OVP_TEST_POSTGRES_URL is set.

A PostgreSQL run creates a database of its own (named after the process and a random suffix),
migrates it once, empties it after each test, and drops it at the end of the run, so that the
server it points at is left as it was found.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy.engine import make_url

from ovp.store.database import Database
from ovp.store.engine import make_engine
from ovp.store.migrate import upgrade
from ovp.store.schema import metadata

POSTGRES_VARIABLE = "OVP_TEST_POSTGRES_URL"
SKIPPED_REASON = f"{POSTGRES_VARIABLE} is not set: the PostgreSQL tests were skipped"
TABLES = tuple(metadata.tables)  # every table ovp has


def postgres_admin_url() -> str | None:
    return os.environ.get(POSTGRES_VARIABLE) or None


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


def _libpq(url: str) -> str:
    """psycopg takes the URL without SQLAlchemy's driver suffix."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def migrated_database(url: str) -> Iterator[Database]:
    """The database at `url`, brought up to date, and closed at the end of the block."""
    database = Database(make_engine(url))
    try:
        upgrade(database)
        yield database
    finally:
        database.dispose()


@contextmanager
def scratch_postgres_database(admin_url: str) -> Iterator[str]:
    """A new, migrated database on the server of `admin_url`, dropped afterwards."""
    name = f"ovp_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    with migrated_database(url):
        pass
    try:
        yield url
    finally:
        with psycopg.connect(_libpq(admin_url), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_postgres_database(url: str) -> None:
    with psycopg.connect(_libpq(url), autocommit=True) as connection:
        connection.execute(f"TRUNCATE {', '.join(TABLES)}")
