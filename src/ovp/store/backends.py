"""The database a URL names: SQLite (a file, or memory) or PostgreSQL."""

from __future__ import annotations

from sqlalchemy.engine import make_url

from ovp.store.checkpoint import WalCheckpoints
from ovp.store.database import Database
from ovp.store.postgres import PostgresDatabase
from ovp.store.sqlite import SqliteDatabase

DEFAULT_TIMEOUT_S = 5.0


def is_memory_sqlite(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:")


def open_database(
    url: str, *, timeout_s: float = DEFAULT_TIMEOUT_S, sqlite_synchronous: str = "NORMAL",
    sqlite_checkpoints: WalCheckpoints = WalCheckpoints.IN_COMMITS, rehearse_writes: bool = False,
) -> Database:
    """`url` in SQLAlchemy's form: sqlite:///path/ovp.db, sqlite:///:memory: or
    postgresql://user@host:5432/db (any driver suffix is ignored). `sqlite_checkpoints`: who
    checkpoints an SQLite file's write-ahead log (ovp.store.checkpoint). `rehearse_writes`: see
    Database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = ":memory:" if is_memory_sqlite(url) else str(parsed.database)
        return SqliteDatabase(path, timeout_s=timeout_s, synchronous=sqlite_synchronous,
                              checkpoints=sqlite_checkpoints, rehearse_writes=rehearse_writes)
    return PostgresDatabase(url, timeout_s=timeout_s, rehearse_writes=rehearse_writes)
