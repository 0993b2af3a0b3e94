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

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Dialect, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import NullPool, PoolProxiedConnection, StaticPool
from sqlalchemy.sql import ClauseElement

from ovp.domain.errors import ServiceUnavailable

# Every wait on the database is bounded, so that trouble there becomes a 503 in seconds, not a hang.
SQLITE_BUSY_TIMEOUT_MS = 5000
POSTGRES_CONNECT_TIMEOUT_S = 3
POSTGRES_STATEMENT_TIMEOUT_MS = 5000
POOL_TIMEOUT_S = 5

Row = Sequence[Any]
T = TypeVar("T")


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
    _configure_sqlite(engine, sqlite_synchronous, in_memory)
    return engine


class Statement:
    """A Core statement, compiled once for each dialect it runs on."""

    def __init__(self, statement: ClauseElement) -> None:
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

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Undoes the block's writes, and only those, when it raises."""
        self.run("SAVEPOINT ovp_work")
        try:
            yield
        except BaseException:
            self.run("ROLLBACK TO SAVEPOINT ovp_work")
            self.run("RELEASE SAVEPOINT ovp_work")
            raise
        self.run("RELEASE SAVEPOINT ovp_work")

    def insert_unique(self, statement: Statement, params: Mapping[str, Any]) -> bool:
        """Runs an INSERT; answers False, having changed nothing, when it breaks a unique key."""
        try:
            with self.savepoint():
                self.execute(statement, params)
        except self.dialect.loaded_dbapi.IntegrityError:
            return False
        return True

    def run(self, sql: str) -> None:
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


@contextmanager
def _unavailable_on_lock() -> Iterator[None]:
    """SQLite answers "database is locked" once another process held the write lock for longer
    than the busy timeout: a 503, like an unreachable PostgreSQL. Other SQLite errors (a missing
    table) are faults, not unavailability."""
    try:
        yield
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise ServiceUnavailable() from error
        raise


@contextmanager
def _committing(connection: PoolProxiedConnection, dialect: Dialect) -> Iterator[Transaction]:
    try:
        yield Transaction(connection.driver_connection, dialect)
        connection.commit()
    except BaseException:
        with suppress(Exception):  # the original error is the one worth reporting
            connection.rollback()
        raise


_PING = Statement(text("SELECT 1"))


class Database:
    """Hands out transactions; a request's work runs in exactly one of them."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._sqlite = engine.dialect.name == "sqlite"
        self._in_memory = self._sqlite and is_memory_sqlite(engine.url.render_as_string())
        # SQLite connections are local and never go stale, so each thread keeps its own for good:
        # a pool checkout and check-in would cost more than a primary-key query.
        self._held = threading.local()
        self._batcher = GroupCommit(self) if self._sqlite else None

    @property
    def backend(self) -> str:
        return self.dialect.name

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[Transaction]:
        """Raises ServiceUnavailable, within a bounded time, when the database cannot serve it."""
        if self._sqlite:
            with _unavailable_on_lock(), self._sqlite_transaction(write) as tx:
                yield tx
            return
        pooled = self._checkout()
        try:
            tx = Transaction(pooled.driver_connection, self.dialect)
            # A read of several statements (a page and its total) sees one snapshot.
            tx.run("BEGIN" if write else "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            try:
                yield tx
                tx.run("COMMIT")
            except BaseException:
                with suppress(Exception):  # the original error is the one worth reporting
                    tx.run("ROLLBACK")
                raise
        except psycopg.OperationalError as error:
            # The connection may be dead (a restarted server): never hand it out again.
            pooled.invalidate(error)
            raise ServiceUnavailable() from error
        finally:
            pooled.close()

    def _checkout(self) -> PoolProxiedConnection:
        try:
            return self.engine.raw_connection()
        except (OperationalError, PoolTimeout, psycopg.OperationalError) as error:
            raise ServiceUnavailable() from error

    @contextmanager
    def single_read(self) -> Iterator[Transaction]:
        """For a read of one statement, which is consistent by itself: SQLite runs it in an
        implicit transaction of its own, sparing the BEGIN and COMMIT that cost as much as a
        primary-key read. Reads of several statements that must agree take `transaction`."""
        if not self._sqlite:
            pooled = self._checkout()
            try:
                yield Transaction(pooled.driver_connection, self.dialect)  # autocommit: its own transaction
            except psycopg.OperationalError as error:
                pooled.invalidate(error)
                raise ServiceUnavailable() from error
            finally:
                pooled.close()
            return
        with _unavailable_on_lock():
            yield Transaction(self._held_connection().driver_connection, self.dialect)

    def _held_connection(self) -> PoolProxiedConnection:
        held: PoolProxiedConnection | None = getattr(self._held, "connection", None)
        if held is None:
            held = self._held.connection = self.engine.raw_connection()
        return held

    @contextmanager
    def _sqlite_transaction(self, write: bool) -> Iterator[Transaction]:
        held = self._held_connection()
        held.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")  # type: ignore[union-attr]
        try:
            with _committing(held, self.dialect) as tx:
                yield tx
        finally:
            if held.driver_connection.in_transaction:  # type: ignore[union-attr]
                # Neither COMMIT nor ROLLBACK went through: this connection must not be reused,
                # or every later BEGIN on this thread would fail while it kept the write lock.
                self._drop_held_connection()

    def _drop_held_connection(self) -> None:
        held: PoolProxiedConnection | None = getattr(self._held, "connection", None)
        self._held.connection = None
        if held is not None:
            held.invalidate()

    async def write(self, work: Callable[[Transaction], T]) -> T:
        """Runs `work` in a write transaction and answers once that transaction has committed.

        On SQLite the writes that arrive together are committed together (group commit): BEGIN
        and COMMIT cost more than a whole primary-key update, and only one writer can hold the
        database at a time anyway. A work may run more than once (see GroupCommit), so it must do
        nothing outside the transaction that it would regret doing twice.
        """
        if self._batcher is None:
            with self.transaction(write=True) as tx:
                return work(tx)
        return await self._batcher.submit(work)

    def ping(self) -> None:
        """Raises unless the database answers."""
        with self.single_read() as tx:
            tx.rows(_PING)

    def dispose(self) -> None:
        """Closes the connections. An in-memory database lives as long as this object, so that an
        app served, stopped and served again in one process (as test clients do) keeps its data."""
        if self._in_memory:
            return
        held: PoolProxiedConnection | None = getattr(self._held, "connection", None)
        self._held.connection = None
        if held is not None:
            held.close()
        self.engine.dispose()


class GroupCommit:
    """Collects the write works submitted during one turn of the event loop and runs them all in
    one transaction. A client hears back only after the commit that holds its write.

    When one work of a batch fails, the whole batch is rolled back and each work runs again in a
    transaction of its own, so that a failure reaches only its own caller. Failures are rare (a
    404, a rule broken by the merged profile), and this spares every write two savepoint
    statements."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._pending: list[tuple[Callable[[Transaction], Any], asyncio.Future[Any]]] = []

    async def submit(self, work: Callable[[Transaction], T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush)
        self._pending.append((work, future))
        return await future

    def _flush(self) -> None:
        batch, self._pending = self._pending, []
        if len(batch) > 1 and self._run_together(batch):
            return
        for work, future in batch:
            self._run_alone(work, future)

    def _run_together(self, batch: list[tuple[Callable[[Transaction], Any], asyncio.Future[Any]]]) -> bool:
        try:
            with self._database.transaction(write=True) as tx:
                results = [work(tx) for work, _future in batch]
        except Exception:  # rolled back whole; each work runs again alone
            return False
        for (_work, future), result in zip(batch, results, strict=True):
            _settle(future, result, None)
        return True

    def _run_alone(self, work: Callable[[Transaction], Any], future: asyncio.Future[Any]) -> None:
        try:
            with self._database.transaction(write=True) as tx:
                result = work(tx)
        except Exception as error:  # the work's own failure, handed back to its caller
            _settle(future, None, error)
            return
        _settle(future, result, None)


def _settle(future: asyncio.Future[Any], result: Any, failure: BaseException | None) -> None:
    if future.done():  # its caller went away (a cancelled request)
        return
    if failure is None:
        future.set_result(result)
    else:
        future.set_exception(failure)
