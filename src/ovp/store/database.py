"""The database: engine set-up for SQLite and PostgreSQL, prepared statements and transactions.

Statements are written with SQLAlchemy Core and compiled once per dialect; each request then runs
the compiled SQL on the pooled DBAPI connection. Going through SQLAlchemy's execution layer for
every statement costs about 100 µs here, several times the query itself, and the request budget
of the hot paths (a PATCH in a fifth of a millisecond) cannot pay it.

SQLite runs in WAL mode, and a write transaction starts with BEGIN IMMEDIATE so that a
read-modify-write never interleaves with another process's write; on PostgreSQL the queries that
read before they write lock their rows with SELECT ... FOR UPDATE.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Dialect, Engine, create_engine, event, literal, select
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql import Executable

SQLITE_BUSY_TIMEOUT_MS = 5000

Row = Sequence[Any]


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


def _configure_sqlite(engine: Engine, synchronous: str, in_memory: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # ovp says itself where each transaction begins and ends (see Database.transaction).
        dbapi_connection.isolation_level = None
        if not in_memory:
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute(f"PRAGMA synchronous={synchronous}")
        dbapi_connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # SQLAlchemy's own transactions (migrations) need an explicit BEGIN under isolation_level None.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, sqlite_synchronous: str = "NORMAL") -> Engine:
    url = normalise_url(url)
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    in_memory = is_memory_sqlite(url)
    engine = create_engine(
        url,
        paramstyle="named",
        # Every transaction ends in an explicit commit or rollback; a second rollback when the
        # connection goes back to the pool would only cost time.
        pool_reset_on_return=None,
        # One in-memory database is one connection; share it.
        poolclass=StaticPool if in_memory else None,
        connect_args={"check_same_thread": False},
    )
    _configure_sqlite(engine, sqlite_synchronous, in_memory)
    return engine


class Statement:
    """A Core statement, compiled once for each dialect it runs on."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self._compiled: dict[str, str] = {}

    def sql(self, dialect: Dialect) -> str:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            compiled = str(self.statement.compile(dialect=dialect))
            self._compiled[dialect.name] = compiled
        return compiled


class Transaction:
    """One transaction on one DBAPI connection; it commits when its block ends without error."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self._connection = dbapi_connection
        self.dialect = dialect

    def execute(self, statement: Statement, params: Mapping[str, Any] | None = None) -> int:
        """Runs a statement that returns no rows; answers how many rows it changed."""
        cursor = self._connection.cursor()
        try:
            cursor.execute(statement.sql(self.dialect), params or {})
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def insert_unique(self, statement: Statement, params: Mapping[str, Any]) -> bool:
        """Runs an INSERT; answers False, having changed nothing, when it breaks a unique key."""
        self._run("SAVEPOINT ovp_insert")
        try:
            self.execute(statement, params)
        except self.dialect.loaded_dbapi.IntegrityError:
            self._run("ROLLBACK TO SAVEPOINT ovp_insert")
            return False
        self._run("RELEASE SAVEPOINT ovp_insert")
        return True

    def _run(self, sql: str) -> None:
        cursor = self._connection.cursor()
        try:
            cursor.execute(sql)
        finally:
            cursor.close()

    def rows(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        cursor = self._connection.cursor()
        try:
            cursor.execute(statement.sql(self.dialect), params or {})
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def scalar(self, statement: Statement, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        found = self.rows(statement, params)
        return found[0][0] if found else None


_PING = Statement(select(literal(1)))


class Database:
    """Hands out transactions; a request's work runs in exactly one of them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._sqlite = engine.dialect.name == "sqlite"

    @property
    def backend(self) -> str:
        return self.dialect.name

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Transaction]:
        pooled = self.engine.raw_connection()
        try:
            if self._sqlite:
                pooled.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")  # type: ignore[union-attr]
            try:
                yield Transaction(pooled.driver_connection, self.dialect)
            except BaseException:
                pooled.rollback()
                raise
            pooled.commit()
        finally:
            pooled.close()

    def ping(self) -> None:
        """Raises unless the database answers."""
        with self.transaction(write=False) as tx:
            tx.rows(_PING)

    def dispose(self) -> None:
        self.engine.dispose()
