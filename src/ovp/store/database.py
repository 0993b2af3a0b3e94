"""The database: prepared statements and transactions, on SQLite and PostgreSQL.

Statements are written with SQLAlchemy Core and compiled once per dialect; each request then runs
the compiled SQL on the pooled DBAPI connection. Going through SQLAlchemy's execution layer for
every statement costs about 100 µs here, several times the query itself, and the request budget
of the hot paths (a PATCH in a fifth of a millisecond) cannot pay it.

SQLite runs in WAL mode, and a write transaction starts with BEGIN IMMEDIATE so that a
read-modify-write never interleaves with another process's write; on PostgreSQL the queries that
read before they write lock their rows with SELECT ... FOR UPDATE.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Dialect, Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.sql import ClauseElement

from ovp.domain.errors import LockWaitExpired, ServiceUnavailable
from ovp.store.checkpoint import Checkpointer
from ovp.store.engine import SQLITE_BUSY_TIMEOUT_MS, is_memory_sqlite
from ovp.store.group_commit import GroupCommit
from ovp.store.writer_lock import WriterLock

Row = Sequence[Any]
T = TypeVar("T")


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
        return int(self._connection.execute(statement.sql(self.dialect), params or {}).rowcount)

    def execute_many(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> None:
        """Runs a statement once for each row of parameters, in one driver call."""
        cursor = self._connection.cursor()  # psycopg's connection has no executemany of its own
        try:
            cursor.executemany(statement.sql(self.dialect), rows)
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
        self._connection.execute(sql)

    def rows(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        # Both drivers' connections run a statement on a cursor of their own, closed with it.
        return list(self._connection.execute(statement.sql(self.dialect), params or {}).fetchall())

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
GROUP_LOCK_WAIT_MS = 50
# One round trip: psycopg sends a query without parameters as it is, several statements and all.
_GROUPED_BEGIN = f"BEGIN; SET LOCAL lock_timeout = '{GROUP_LOCK_WAIT_MS}ms'"
_SNAPSHOT_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"


class Database:
    """Hands out transactions; a request's work runs in exactly one of them."""

    def __init__(self, engine: Engine, checkpointer: Checkpointer | None = None) -> None:
        """`checkpointer`: for an SQLite file whose engine leaves WAL checkpoints to it."""
        self.engine = engine
        self._checkpointer = checkpointer
        self.dialect = engine.dialect
        self._sqlite = engine.dialect.name == "sqlite"
        self._in_memory = self._sqlite and is_memory_sqlite(engine.url.render_as_string())
        # SQLite connections are local and never go stale, so each thread keeps its own for good:
        # a pool checkout and check-in would cost more than a primary-key query.
        self._held = threading.local()
        self._impatient_until = 0.0  # time.monotonic(); see _waits_allowed
        self._writer_lock = (
            WriterLock(str(engine.url.database), SQLITE_BUSY_TIMEOUT_MS / 1000)
            if self._sqlite and not self._in_memory else None
        )
        self._batcher = GroupCommit(self)

    @property
    def backend(self) -> str:
        return self.dialect.name

    @contextmanager
    def transaction(self, *, write: bool, grouped: bool = False) -> Iterator[Transaction]:
        """Raises ServiceUnavailable, within a bounded time, when the database cannot serve it.

        `grouped`: the transaction holds several clients' writes (group commit). On PostgreSQL it
        then waits for a row lock only briefly: two servers' groups can take the same rows in
        opposite orders, and rather than deadlock until PostgreSQL notices (a second), the group
        gives up within GROUP_LOCK_WAIT_MS and its writes run again one by one."""
        with self._waits_allowed(write or not self._sqlite) as patient:
            if self._sqlite:
                with _unavailable_on_lock(), self._sqlite_transaction(write, patient) as tx:
                    yield tx
                return
            if not patient:
                raise ServiceUnavailable()
            with self._postgres_transaction(write, grouped) as tx:
                yield tx

    @contextmanager
    def _waits_allowed(self, applies: bool) -> Iterator[bool]:
        """Whether this attempt may wait its bounded time for the database. Not in the second
        after a wait ran out: each wait holds the worker's event loop, and the requests queued
        behind it would only wait as long for the same answer. Then SQLite is tried without
        waiting (a write lock released meanwhile is taken at once), and PostgreSQL not at all
        (Retry-After says when to come back). On SQLite only writes wait on another process."""
        if not applies:
            yield True
            return
        patient = time.monotonic() >= self._impatient_until
        try:
            yield patient
        except LockWaitExpired:  # a lock held a while by another writer, not the database down
            raise
        except ServiceUnavailable:
            if patient:
                self._impatient_until = time.monotonic() + ServiceUnavailable.RETRY_AFTER_SECONDS
            raise

    @contextmanager
    def _postgres_transaction(self, write: bool, grouped: bool) -> Iterator[Transaction]:
        with self._pooled() as pooled:
            tx = Transaction(pooled.driver_connection, self.dialect)
            # A read of several statements (a page and its total) sees one snapshot.
            tx.run(_GROUPED_BEGIN if grouped else "BEGIN" if write else _SNAPSHOT_BEGIN)
            try:
                yield tx
                tx.run("COMMIT")
            except BaseException:
                with suppress(Exception):  # the original error is the one worth reporting
                    tx.run("ROLLBACK")
                raise

    @contextmanager
    def _pooled(self) -> Iterator[PoolProxiedConnection]:
        """A PostgreSQL connection from the pool; when the database fails it, a 503."""
        try:
            pooled = self.engine.raw_connection()
        except (OperationalError, PoolTimeout, psycopg.OperationalError) as error:
            raise ServiceUnavailable() from error
        try:
            yield pooled
        except psycopg.errors.LockNotAvailable as error:  # a lock wait ran out; the connection is fine
            raise LockWaitExpired() from error
        except psycopg.OperationalError as error:
            # The connection may be dead (a restarted server): never hand it out again.
            pooled.invalidate(error)
            raise ServiceUnavailable() from error
        finally:
            pooled.close()

    @contextmanager
    def single_read(self) -> Iterator[Transaction]:
        """For a read of one statement, which is consistent by itself: SQLite runs it in an
        implicit transaction of its own, sparing the BEGIN and COMMIT that cost as much as a
        primary-key read. Reads of several statements that must agree take `transaction`."""
        if not self._sqlite:
            with self._waits_allowed(True) as patient:
                if not patient:
                    raise ServiceUnavailable()
                with self._pooled() as pooled:
                    yield Transaction(pooled.driver_connection, self.dialect)  # autocommit: its own transaction
            return
        with _unavailable_on_lock():
            yield Transaction(self._held_connection().driver_connection, self.dialect)

    def _held_connection(self) -> PoolProxiedConnection:
        held: PoolProxiedConnection | None = getattr(self._held, "connection", None)
        if held is None:
            held = self._held.connection = self.engine.raw_connection()
        return held

    @contextmanager
    def _sqlite_transaction(self, write: bool, patient: bool = True) -> Iterator[Transaction]:
        if write and self._writer_lock is not None:
            with self._writer_lock.held(wait=patient), self._sqlite_transaction_on_held(write, patient) as tx:
                yield tx
            return
        with self._sqlite_transaction_on_held(write, patient) as tx:
            yield tx

    @contextmanager
    def _sqlite_transaction_on_held(self, write: bool, patient: bool) -> Iterator[Transaction]:
        held = self._held_connection()
        connection: sqlite3.Connection = held.driver_connection  # type: ignore[assignment]
        if patient:
            connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        else:
            connection.execute("PRAGMA busy_timeout=0")
            try:
                connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            finally:
                connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
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

        The writes that arrive together are committed together (group commit). On SQLite, BEGIN
        and COMMIT cost more than a whole primary-key update, and only one writer can hold the
        database at a time anyway; on PostgreSQL they are two of a PATCH's four round trips. Row
        locks are held until the group commits; a group waits for another's locks only briefly
        (see `transaction`), then each of its works runs again alone. A work may run more than once
        (see GroupCommit), so it must do nothing outside the transaction that it would regret
        doing twice.
        """
        return await self._batcher.submit(work)

    def ping(self) -> None:
        """Raises unless the database answers."""
        with self.single_read() as tx:
            tx.rows(_PING)

    def start(self) -> None:
        """Starts the background work of a served database (SQLite's WAL checkpoints)."""
        if self._checkpointer is not None:
            self._checkpointer.start()

    def dispose(self) -> None:
        """Stops the background work and closes the connections. An in-memory database lives as
        long as this object, so that an app served, stopped and served again in one process (as
        test clients do) keeps its data."""
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._in_memory:
            return
        held: PoolProxiedConnection | None = getattr(self._held, "connection", None)
        self._held.connection = None
        if held is not None:
            held.close()
        if self._writer_lock is not None:
            self._writer_lock.close()
        self.engine.dispose()


