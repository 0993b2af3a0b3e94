"""Engines for SQLite and PostgreSQL: drivers, connection settings, and bounded waits.

SQLite runs in WAL mode with a busy timeout; ovp says itself where each transaction begins (see
ovp.store.database). PostgreSQL runs in autocommit for the same reason, with connect, statement,
lock and pool timeouts, so that trouble with the database becomes a 503 in seconds, not a hang.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool, StaticPool

SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 3
POSTGRES_STATEMENT_TIMEOUT_MS = 5000
POOL_TIMEOUT_S = 5


def normalise_url(url: str) -> str:
    """Accepts SQLAlchemy URLs as users write them and picks the drivers ovp ships with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+pysqlite")
    return parsed.render_as_string(hide_password=False)


def is_memory_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def _configure_sqlite(engine: Engine, synchronous: str, in_memory: bool, checkpoints_apart: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # ovp says itself where each transaction begins and ends (see Database.transaction).
        dbapi_connection.isolation_level = None
        if not in_memory:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            # Checkpoints run on a thread of their own while serving (see ovp.store.checkpoint).
            dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={0 if checkpoints_apart else 1000}")
        dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # SQLAlchemy's own transactions (migrations) need an explicit BEGIN under isolation_level None.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, sqlite_synchronous: str = "NORMAL", *, sqlite_checkpoints_apart: bool = False) -> Engine:
    """`sqlite_checkpoints_apart`: the caller runs WAL checkpoints itself (ovp.store.checkpoint)."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(
            url,
            # ovp says where each transaction begins and ends (see Database.transaction), so that a
            # read of one statement is one round trip instead of three (BEGIN, the read, COMMIT).
            isolation_level="AUTOCOMMIT",
            pool_reset_on_return=None,
            pool_size=5,
            max_overflow=10,
            pool_timeout=POOL_TIMEOUT_S,
            connect_args={
                "connect_timeout": POSTGRES_CONNECT_TIMEOUT_S,
                "options": f"-c statement_timeout={POSTGRES_STATEMENT_TIMEOUT_MS} "
                f"-c lock_timeout={POSTGRES_STATEMENT_TIMEOUT_MS}",
            },
        )
    in_memory = is_memory_sqlite(url)
    engine = create_engine(
        url,
        paramstyle="named",
        # Every transaction ends in an explicit commit or rollback; a second rollback when the
        # connection goes back to the pool would only cost time.
        pool_reset_on_return=None,
        # One in-memory database is one connection, shared; a file gets a connection per thread,
        # which Database keeps (NullPool: the pool itself keeps none).
        poolclass=StaticPool if in_memory else NullPool,
        connect_args={"check_same_thread": False},
    )
    _configure_sqlite(engine, sqlite_synchronous, in_memory, sqlite_checkpoints_apart)
    return engine
