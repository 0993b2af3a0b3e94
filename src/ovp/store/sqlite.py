"""SQLite: a file in WAL mode (or memory, for tests), served from the event loop without ever
waiting on it.

A statement on a local SQLite file takes microseconds, less than handing it to a thread and
back (about 55 µs of CPU measured here), so requests run their statements on the event loop.
What could make them wait is kept off it:

- Locks. The connection never waits inside SQLite (busy_timeout 0): a write first takes the
  writer lock shared by ovp's processes (ovp.store.writer_lock), then BEGIN IMMEDIATE, and each
  is tried again after an asyncio sleep while another process holds it, up to the deadline. A read
  never waits for a writer in WAL mode; in the rare moment SQLite answers busy, it is tried again
  the same way.
- Long work (a whole rate deck, a seed): `write_long` runs it on a thread of its own, with a
  connection of its own, while the event loop goes on answering.
- Slow statements: a progress handler interrupts any statement still running at the deadline.
- Checkpoints of the write-ahead log: a thread of their own (ovp.store.checkpoint).

Storage trouble (a full disk, read-only files, I/O errors, the file deleted or replaced under the
server) is a 503 that says so, never a 500.
"""

from __future__ import annotations

import asyncio
import math
import os
import sqlite3
import time
from collections.abc import Iterable, Mapping, Sequence
from contextlib import suppress
from typing import Any, NoReturn, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.pool import StaticPool

from ovp.store import health
from ovp.store.checkpoint import Checkpointer, WalCheckpoints
from ovp.store.database import PROBE_WRITE, Database, Row, Statement, Transaction, Work, run_work
from ovp.store.group_commit import GroupCommit
from ovp.store.health import Outage
from ovp.store.migrate import upgrade_on
from ovp.store.writer_lock import WriterLock

T = TypeVar("T")
DIALECT = SQLiteDialect_pysqlite(paramstyle="named")
FIRST_PAUSE_S = 0.001
LONGEST_PAUSE_S = 0.01
# The progress handler runs every this many SQLite VM instructions: a primary-key read takes
# about 50, so it costs nothing on a normal statement and stops a runaway one within microseconds.
PROGRESS_STEPS = 10_000
PROBE_TIMEOUT_S = 1.0

# SQLite's primary result codes (the low byte of an extended code).
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_READONLY, SQLITE_INTERRUPT = 5, 6, 8, 9
SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN = 10, 13, 14


class _Connection:
    """A sqlite3 connection and the deadline its progress handler enforces."""

    def __init__(self, path: str, synchronous: str, *, wal: bool, checkpoints: WalCheckpoints) -> None:
        self.sqlite = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.deadline = math.inf
        if wal:
            self.sqlite.execute("PRAGMA journal_mode=WAL")
            # A server's connections leave checkpoints to its workers' thread (ovp.store.checkpoint).
            in_commits = checkpoints is WalCheckpoints.IN_COMMITS
            self.sqlite.execute(f"PRAGMA wal_autocheckpoint={1000 if in_commits else 0}")
        self.sqlite.execute(f"PRAGMA synchronous={synchronous}")
        self.sqlite.execute("PRAGMA busy_timeout=0")
        self.sqlite.execute("PRAGMA foreign_keys=ON")
        self.sqlite.set_progress_handler(self._past_deadline, PROGRESS_STEPS)

    def _past_deadline(self) -> bool:
        return time.monotonic() > self.deadline

    def execute(self, sql: str, params: Mapping[str, Any] | Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.sqlite.execute(sql, params)

    def abandon_transaction(self) -> None:
        """Rolls back whatever is open; the original error is the one worth reporting."""
        with suppress(sqlite3.Error):
            if self.sqlite.in_transaction:
                self.sqlite.execute("ROLLBACK")


class SqliteTransaction(Transaction):
    def __init__(self, connection: _Connection, *, read_only: bool = False, statements: int | None = None,
                 rehearse: bool = False) -> None:
        super().__init__(DIALECT, read_only=read_only, statements=statements, rehearse=rehearse)
        self._connection = connection.sqlite

    def run(self, sql: str) -> None:
        self._connection.execute(sql)

    def execute(self, statement: Statement, params: Mapping[str, Any] | None = None) -> int:
        self._check(statement)
        return self._connection.execute(statement.compiled(DIALECT).sql, params or {}).rowcount

    def flush(self) -> None:
        """Nothing is kept back: a statement on a local file costs no round trip."""

    def execute_many(self, statement: Statement, rows: Iterable[Mapping[str, Any]]) -> None:
        self._check(statement)
        self._connection.executemany(statement.compiled(DIALECT).sql, rows)

    def rows(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        self._check(statement)
        return self._connection.execute(statement.compiled(DIALECT).sql, params or {}).fetchall()

    def insert_unique(self, statement: Statement, params: Mapping[str, Any]) -> bool:
        self._connection.execute("SAVEPOINT ovp_insert")
        try:
            self.execute(statement, params)
        except sqlite3.IntegrityError:
            self._connection.execute("ROLLBACK TO SAVEPOINT ovp_insert")
            return False
        finally:
            self._connection.execute("RELEASE SAVEPOINT ovp_insert")
        return True


def _primary_code(error: sqlite3.Error) -> int:
    return int(getattr(error, "sqlite_errorcode", 0) or 0) & 0xFF


def _is_busy(error: sqlite3.Error) -> bool:
    return isinstance(error, sqlite3.OperationalError) and _primary_code(error) in (SQLITE_BUSY, SQLITE_LOCKED)


class SqliteDatabase(Database):
    backend = "sqlite"
    dialect = DIALECT

    def __init__(
        self, path: str, *, timeout_s: float = 5.0, synchronous: str = "NORMAL",
        checkpoints: WalCheckpoints = WalCheckpoints.IN_COMMITS, rehearse_writes: bool = False,
    ) -> None:
        """`path`: a file, or ":memory:" (one process only; it lives as long as this object, so
        that an app served, stopped and served again in one process keeps its data).
        `checkpoints`: who checkpoints the file's write-ahead log."""
        super().__init__(timeout_s, rehearse_writes=rehearse_writes)
        self.path = path
        self.in_memory = path in ("", ":memory:")
        self._synchronous = synchronous
        self._checkpoints = WalCheckpoints.IN_COMMITS if self.in_memory else checkpoints
        self._connection = self._open()
        # A long work's connection: a thread of its own writes on it while the event loop reads.
        self._long_connection: _Connection | None = None
        self._identity = None if self.in_memory else _identity(path)
        self._writer = asyncio.Lock()  # one writer at a time in this process
        self._writer_lock = None if self.in_memory else WriterLock(path)
        self._checkpointer = Checkpointer(path) if self._checkpoints is WalCheckpoints.THREAD else None
        self._group = GroupCommit(
            lambda body, _grouped, deadline: self._write_transaction(body, long=False, deadline=deadline),
            timeout_s,
            self._grouped,
        )

    def _open(self) -> _Connection:
        return _Connection(self.path or ":memory:", self._synchronous, wal=not self.in_memory,
                           checkpoints=self._checkpoints)

    async def migrate(self) -> None:
        # The in-memory database exists only on its one connection, so it is migrated there.
        creator = (lambda: self._connection.sqlite) if self.in_memory else None
        engine = create_engine(
            "sqlite://" if self.in_memory else f"sqlite:///{self.path}",
            poolclass=StaticPool if self.in_memory else None,
            **({"creator": creator} if creator else {}),
        )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # BEGIN is issued below, as ovp's own transactions do

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        with engine.connect() as connection:
            upgrade_on(connection)
        if not self.in_memory:
            engine.dispose()

    async def _write(self, work: Work[T]) -> T:
        return await self._group.submit(work)

    async def _write_long(self, work: Work[T]) -> T:
        return await self._write_transaction(lambda tx: run_work(work, tx), long=True)

    async def _read(self, work: Work[T]) -> T:
        return await self._read_transaction(work, single=False)

    async def _read_one(self, work: Work[T]) -> T:
        return await self._read_transaction(work, single=True)

    async def _read_transaction(self, work: Work[T], *, single: bool) -> T:
        self.health.refuse_if_down(write=False)
        deadline = time.monotonic() + self.timeout_s
        pause = FIRST_PAUSE_S
        connection = self._connection
        while True:
            tx = SqliteTransaction(connection, read_only=True, statements=1 if single else None)
            connection.deadline = deadline
            try:
                if single:  # one statement is a transaction of its own: no BEGIN and COMMIT to pay
                    return run_work(work, tx)
                connection.execute("BEGIN")
                try:
                    return run_work(work, tx)
                finally:
                    connection.abandon_transaction()  # a read has nothing to commit
            except sqlite3.Error as error:
                if not _is_busy(error) or time.monotonic() >= deadline:
                    self._raise_trouble(error)
            finally:
                connection.deadline = math.inf
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)

    async def _write_transaction(
        self, body: Work[T], *, long: bool, deadline: float | None = None, probing: bool = False
    ) -> T:
        """Runs `body` in a write transaction, by `deadline` (time.monotonic()): on the event
        loop, or for a long work on a thread.

        While an outage of writes lasts (a lock another process keeps, a full disk), a write is
        tried without waiting: a lock released or space freed meanwhile serves it at once, and
        ends the outage. `probing`: the watcher's probe, which waits as it is told."""
        now = time.monotonic()
        deadline = now + self.timeout_s if deadline is None else deadline
        outage = self.health.outage
        if outage is not None and not probing:
            if not outage.writes_only:
                raise outage.error()
            deadline = now
        try:
            async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                await self._writer.acquire()
        except TimeoutError:
            raise self._down(health.locked(self.timeout_s)) from None
        try:
            if self._checkpointer is not None:
                await self._checkpointer.give_way()
            if self._writer_lock is not None and not await self._writer_lock.acquire(deadline):
                raise self._down(health.locked(self.timeout_s))
            try:
                self._check_identity()
                if long and not self.in_memory:
                    result: T = await asyncio.to_thread(self._write_on_thread, body, deadline)
                    self.health.recovered()
                    return result
                connection = self._connection
                await self._begin_immediate(connection, deadline)
                result = self._run_and_commit(connection, body, deadline)
                self.health.recovered()
                return result
            finally:
                if self._writer_lock is not None:
                    self._writer_lock.release()
        except sqlite3.Error as error:
            self._raise_trouble(error)
        finally:
            self._writer.release()

    async def _begin_immediate(self, connection: _Connection, deadline: float) -> None:
        """Takes SQLite's write lock; another process may hold it (ovp's processes take the writer
        lock first, but any other program may write too)."""
        pause = FIRST_PAUSE_S
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not _is_busy(error):
                    raise
                if time.monotonic() >= deadline:
                    raise self._down(health.locked(self.timeout_s)) from None
            await asyncio.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE_S)

    def _write_on_thread(self, body: Work[T], deadline: float) -> T:
        if self._long_connection is None:
            self._long_connection = self._open()
        connection = self._long_connection
        # This thread may wait inside SQLite: nothing else runs on it.
        connection.execute(f"PRAGMA busy_timeout={max(int((deadline - time.monotonic()) * 1000), 0)}")
        try:
            connection.execute("BEGIN IMMEDIATE")
        finally:
            connection.execute("PRAGMA busy_timeout=0")
        return self._run_and_commit(connection, body, deadline)

    def _run_and_commit(self, connection: _Connection, body: Work[T], deadline: float) -> T:
        connection.deadline = deadline
        try:
            tx = SqliteTransaction(connection, rehearse=self.rehearse_writes)
            result = body(tx)
            tx.before_commit()
            connection.execute("COMMIT")
            return result
        except BaseException:
            connection.abandon_transaction()
            raise
        finally:
            connection.deadline = math.inf

    def _check_identity(self) -> None:
        """Refuses to write into a file that is no longer the one at the path: its writes would be
        lost with it."""
        if self._identity is not None and _identity(self.path) != self._identity:
            raise self._down(health.FILE_REPLACED)

    def _raise_trouble(self, error: sqlite3.Error) -> NoReturn:
        """Raises the 503 for storage trouble; any other error as it is (a fault of ovp's: a 500)."""
        outage = self._outage_of(error)
        if outage is None:
            raise error
        raise self._down(outage) from error

    def _outage_of(self, error: sqlite3.Error) -> Outage | None:
        code = _primary_code(error)
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            return health.locked(self.timeout_s)
        if code == SQLITE_INTERRUPT:
            return health.too_slow(self.timeout_s)
        if code in (SQLITE_READONLY, SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN):
            return self._storage_outage(code)
        return None

    def _storage_outage(self, code: int) -> Outage:
        """What the file system says, when it can tell: a write to a full or read-only file
        system may come back from SQLite as a plain I/O error."""
        if self.in_memory:
            return health.IO_ERROR
        try:
            stats = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
        except OSError:
            return health.IO_ERROR
        if stats.f_flag & os.ST_RDONLY or code == SQLITE_READONLY:
            return health.READ_ONLY
        if code == SQLITE_FULL or stats.f_bavail == 0:
            return health.DISK_FULL
        return health.IO_ERROR

    async def _probe(self) -> None:
        self._check_identity()
        outage = self.health.outage
        if outage is not None and outage.writes_only:
            # What failed was writing: only a write shows it works again.
            deadline = time.monotonic() + min(self.timeout_s, PROBE_TIMEOUT_S)
            await self._write_transaction(lambda tx: tx.execute(PROBE_WRITE), long=False, deadline=deadline,
                                          probing=True)
            return
        try:
            self._connection.execute("SELECT 1").fetchall()
        except sqlite3.Error as error:
            self._raise_trouble(error)

    async def start(self) -> None:
        self._writer = asyncio.Lock()  # bound to the loop that serves
        if self._checkpointer is not None:
            self._checkpointer.start()

    async def close(self) -> None:
        await super().close()
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self.in_memory:
            return
        self._connection.sqlite.close()
        if self._long_connection is not None:
            self._long_connection.sqlite.close()
            self._long_connection = None
        if self._writer_lock is not None:
            self._writer_lock.close()


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stats = os.stat(path)
    except FileNotFoundError:
        return None
    return stats.st_dev, stats.st_ino
