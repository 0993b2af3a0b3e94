"""PostgreSQL through asyncpg: no database call ever holds the event loop.

A work is a plain function (see ovp.store.database); it runs in a greenlet, and each of its
statements hands the event loop the driver's coroutine to await (SQLAlchemy's greenlet bridge, as
its own asyncio support does), so the loop serves other requests during every round trip. asyncpg
was measured against psycopg's asynchronous connection (`python -m bench.drivers`: a group of 16
works in one transaction, each a SELECT ... FOR UPDATE and an UPDATE): with a round trip a
statement, as an authorization needs its reads' answers, asyncpg spends 123 µs of client CPU a work
and psycopg 196 µs. psycopg's pipeline mode, every statement sent before any answer is read, spends
57 µs where a group needs no answer in between, against 86 µs for asyncpg's `executemany` of the
group's UPDATEs, which is how ovp sends a group of PATCHes. On two cores the server's CPU bounds
the rate, and most of ovp's works read before they write, so asyncpg it is.

Every operation is bounded by ovp's own deadline, not only by PostgreSQL's statement timeout: a
database that stops answering (a frozen host or network) gets no more than the deadline, then the
connection is dropped and the request answered 503.

A write's COMMIT is never left in doubt: each write transaction reads its transaction id first. If
the connection breaks while COMMIT is under way, another connection asks PostgreSQL what became of
that transaction: committed, the write is answered as done; aborted, it runs again while its
deadline allows (a work may run twice). A connection that broke before COMMIT was sent committed
nothing, and the work runs again the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool
from sqlalchemy.util import await_only, greenlet_spawn

from ovp.domain.errors import ConcurrentChange, LockWaitExpired, ServiceUnavailable
from ovp.store import health, housekeeping
from ovp.store.database import PING, PROBE_WRITE, Database, Row, Statement, Transaction, Work, run_work
from ovp.store.group_commit import GroupCommit
from ovp.store.health import Outage
from ovp.store.migrate import upgrade_on
from ovp.store.pg_pool import ConnectionPool

T = TypeVar("T")
DIALECT = PGDialect_asyncpg()  # type: ignore[no-untyped-call]
CONNECT_TIMEOUT_S = 3.0
# After a COMMIT whose answer was lost, how long ovp may spend finding out what became of it,
# beyond the deadline.
RESOLVE_TIMEOUT_S = 0.5
PROBE_TIMEOUT_S = 1.0
GROUP_LOCK_WAIT_MS = 50
STATEMENT_CACHE_SIZE = 1024
EXECUTE_MANY_CHUNK = 1000

_XID = "SELECT pg_current_xact_id()"
_XACT_STATUS = "SELECT pg_xact_status($1)"


@dataclass(frozen=True)
class _Kind:
    """How a transaction begins (None: one statement in autocommit), whether it writes, and how
    many statements it may run."""

    begin: str | None
    write: bool
    statements: int | None = None


_READ_ONE = _Kind(None, write=False, statements=1)
# A read of several statements (a page and its total) sees one snapshot.
_READ = _Kind("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", write=False)
_WRITE = _Kind("BEGIN", write=True)
# A group of several clients' writes waits for a row lock only briefly: two servers' groups can
# take the same rows in opposite orders, and rather than deadlock until PostgreSQL notices (a
# second), the group gives up within GROUP_LOCK_WAIT_MS and its works run again one by one. One
# round trip: a query without parameters goes as it is, both statements at once.
_GROUPED = _Kind(f"BEGIN; SET LOCAL lock_timeout = '{GROUP_LOCK_WAIT_MS}ms'", write=True)


def _rowcount(status: str) -> int:
    """Rows changed, from a command tag such as 'UPDATE 1' or 'INSERT 0 1'."""
    count = status.rsplit(" ", 1)[-1]
    return int(count) if count.isdigit() else 0


class PostgresTransaction(Transaction):
    def __init__(self, connection: asyncpg.Connection, *, read_only: bool = False,
                 statements: int | None = None, rehearse: bool = False) -> None:
        super().__init__(DIALECT, read_only=read_only, statements=statements, rehearse=rehearse)
        self._connection = connection
        self._later: list[tuple[Statement, Mapping[str, Any]]] = []

    def run(self, sql: str) -> None:
        self.flush()
        await_only(self._connection.execute(sql))

    def execute(self, statement: Statement, params: Mapping[str, Any] | None = None) -> int:
        self._check(statement)
        self.flush()
        compiled = statement.compiled(DIALECT)
        status: str = await_only(self._connection.execute(compiled.sql, *compiled.arguments(params or {})))
        return _rowcount(status)

    def execute_later(self, statement: Statement, params: Mapping[str, Any]) -> None:
        """Kept until the next statement or COMMIT: a run of the same statement then goes in one
        round trip (asyncpg's executemany), as a group of PATCHes of one profile does."""
        self._check(statement)
        self._later.append((statement, params))

    def flush(self) -> None:
        if not self._later:
            return
        later, self._later = self._later, []
        for statement, run in itertools.groupby(later, key=lambda entry: entry[0]):
            compiled = statement.compiled(DIALECT)
            arguments = [compiled.arguments(params) for _statement, params in run]
            if len(arguments) == 1:
                await_only(self._connection.execute(compiled.sql, *arguments[0]))
            else:
                await_only(self._connection.executemany(compiled.sql, arguments))

    def execute_many(self, statement: Statement, rows: Iterable[Mapping[str, Any]]) -> None:
        """Sent EXECUTE_MANY_CHUNK rows at a time: the rows of each are prepared on the event loop,
        which serves others between chunks (a whole rate deck is tens of thousands of rows)."""
        self._check(statement)
        self.flush()
        compiled = statement.compiled(DIALECT)
        pending = iter(rows)
        while chunk := [compiled.arguments(row) for row in itertools.islice(pending, EXECUTE_MANY_CHUNK)]:
            await_only(self._connection.executemany(compiled.sql, chunk))

    def rows(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        self._check(statement)
        self.flush()
        compiled = statement.compiled(DIALECT)
        found: list[Row] = await_only(self._connection.fetch(compiled.sql, *compiled.arguments(params or {})))
        return found

    sends_many_at_once = True

    def rows_many(self, statement: Statement, params: Sequence[Mapping[str, Any]]) -> list[Row]:
        """In one round trip (asyncpg's fetchmany)."""
        self._check(statement)
        self.flush()
        compiled = statement.compiled(DIALECT)
        found: list[Row] = await_only(self._connection.fetchmany(
            compiled.sql, [compiled.arguments(one) for one in params]))
        return found

    def insert_unique(self, statement: Statement, params: Mapping[str, Any]) -> bool:
        self.flush()
        await_only(self._connection.execute("SAVEPOINT ovp_insert"))
        try:
            self.execute(statement, params)
        except asyncpg.UniqueViolationError:
            await_only(self._connection.execute("ROLLBACK TO SAVEPOINT ovp_insert"))
            return False
        finally:
            await_only(self._connection.execute("RELEASE SAVEPOINT ovp_insert"))
        return True


class _CommitInDoubt(Exception):
    """The connection broke while COMMIT was under way: the transaction may have committed."""

    def __init__(self, xid: int, result: Any) -> None:
        super().__init__(xid)
        self.xid = xid
        self.result = result


def _broken(error: BaseException) -> bool:
    """The connection's state is unknown after this (a cancelled round trip, a lost connection):
    it must be dropped, and nothing more sent on it."""
    return isinstance(error, (asyncio.CancelledError, OSError, asyncpg.InterfaceError, asyncpg.InternalClientError,
                              asyncpg.PostgresConnectionError, asyncpg.AdminShutdownError,
                              asyncpg.CrashShutdownError, asyncpg.CannotConnectNowError))


class PostgresDatabase(Database):
    backend = "postgresql"
    dialect = DIALECT

    def __init__(self, url: str, *, timeout_s: float = 5.0, pool_size: int = 10,
                 rehearse_writes: bool = False) -> None:
        super().__init__(timeout_s, rehearse_writes=rehearse_writes)
        self.url = url
        self._dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._housekeeping: asyncio.Task[None] | None = None
        self._pool = ConnectionPool(self._connect, pool_size)
        self._group = GroupCommit(
            lambda body, grouped, deadline: self._transact(body, _GROUPED if grouped else _WRITE, deadline),
            timeout_s,
            self._grouped,
            takes_late=True,
            overlaps_commits=True,
        )

    async def _connect(self) -> asyncpg.Connection:
        timeout_ms = int(self.timeout_s * 1000)
        try:
            connection: asyncpg.Connection = await asyncpg.connect(
                self._dsn, timeout=CONNECT_TIMEOUT_S, statement_cache_size=STATEMENT_CACHE_SIZE,
                server_settings={
                    "application_name": "ovp",
                    # PostgreSQL's own bounds, behind ovp's: a statement or lock wait that outlives
                    # the deadline is stopped there too, and the locks of a transaction whose
                    # client froze are released.
                    "statement_timeout": str(timeout_ms),
                    "lock_timeout": str(timeout_ms),
                    "idle_in_transaction_session_timeout": str(2 * timeout_ms),
                    # The planner's JIT costs milliseconds on the first run of a statement and
                    # saves nothing on ovp's indexed lookups.
                    "jit": "off",
                },
            )
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            raise self._down(health.unreachable(_reason(error))) from error
        return connection

    async def migrate(self) -> None:
        engine = create_async_engine(make_url(self.url).set(drivername="postgresql+asyncpg"), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                await connection.run_sync(upgrade_on)
                await connection.commit()
        finally:
            await engine.dispose()

    async def _write(self, work: Work[T]) -> T:
        self.health.refuse_if_down(write=True)
        result: T = await self._group.submit(work)
        return result

    async def _write_long(self, work: Work[T]) -> T:
        result: T = await self._transact(lambda tx: run_work(work, tx), _WRITE)
        return result

    async def _read(self, work: Work[T]) -> T:
        result: T = await self._transact(lambda tx: run_work(work, tx), _READ)
        return result

    async def _read_one(self, work: Work[T]) -> T:
        result: T = await self._transact(lambda tx: run_work(work, tx), _READ_ONE)
        return result

    async def _transact(self, body: Work[T], kind: _Kind, deadline: float | None = None, *,
                        probing: bool = False) -> T:
        """Runs `body` in a transaction of `kind` by `deadline` (time.monotonic()). A connection
        lost before COMMIT, or a transaction found aborted after one, is tried again on a new
        connection while the deadline allows: nothing of it was committed. So is, once, a work that
        broke a unique key another transaction took meanwhile: run again, it sees the value taken.
        While an outage lasts,
        the answer is its 503 at once; `probing`: the watcher's probe, which tries all the same."""
        if not probing:
            self.health.refuse_if_down(write=kind.write)
        deadline = time.monotonic() + self.timeout_s if deadline is None else deadline
        changed_meanwhile = False
        while True:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    return await self._attempt(body, kind)
            except TimeoutError:
                raise self._down(health.too_slow(self.timeout_s)) from None
            except _CommitInDoubt as doubt:
                if await self._committed(doubt.xid, max(deadline, time.monotonic()) + RESOLVE_TIMEOUT_S):
                    return doubt.result  # type: ignore[no-any-return]
            except ServiceUnavailable:
                raise
            except Exception as error:
                if not _broken(error):
                    translated = self._translated(error)
                    if not isinstance(translated, ConcurrentChange) or changed_meanwhile:
                        raise translated from error
                    changed_meanwhile = True  # run again, the work sees what was committed meanwhile
                    continue
            if time.monotonic() >= deadline:
                raise self._down(health.unreachable("the connection broke")) from None

    async def _attempt(self, body: Work[T], kind: _Kind) -> T:
        connection = await self._pool.acquire()
        try:
            result: T = await greenlet_spawn(self._in_transaction, connection, body, kind)
        except BaseException as error:
            if _broken(error) or isinstance(error, _CommitInDoubt):
                self._pool.discard(connection)
            else:
                self._pool.release(connection)
            raise
        self._pool.release(connection)
        return result

    def _in_transaction(self, connection: asyncpg.Connection, body: Work[T], kind: _Kind) -> T:
        """Runs in a greenlet: every await_only is a round trip the event loop awaits."""
        tx = PostgresTransaction(connection, read_only=not kind.write, statements=kind.statements,
                                 rehearse=kind.write and self.rehearse_writes)
        if kind.begin is None:
            return body(tx)  # one statement: a transaction of its own
        await_only(connection.execute(kind.begin))
        try:
            xid: int = await_only(connection.fetchval(_XID)) if kind.write else 0
            result = body(tx)
            tx.before_commit()
        except BaseException as error:
            if not _broken(error):  # the work's own failure: the connection is fine
                await_only(connection.execute("ROLLBACK"))
            raise
        try:
            await_only(connection.execute("COMMIT"))
        except BaseException as error:
            if kind.write and _broken(error):
                raise _CommitInDoubt(xid, result) from error
            raise
        return result

    async def _committed(self, xid: int, deadline: float) -> bool:
        """Whether the transaction `xid` committed, asked on another connection; a 503 if
        PostgreSQL cannot tell before `deadline` (time.monotonic())."""
        while time.monotonic() < deadline:
            try:
                async with asyncio.timeout(max(deadline - time.monotonic(), 0)):
                    connection = await self._pool.acquire()
                    try:
                        status = await connection.fetchval(_XACT_STATUS, xid)
                    except BaseException:
                        self._pool.discard(connection)
                        raise
                    self._pool.release(connection)
            except (TimeoutError, ServiceUnavailable):
                break
            except Exception as error:
                if not _broken(error):
                    raise
                continue
            if status in ("committed", "aborted"):
                return bool(status == "committed")
            await asyncio.sleep(0.01)  # in progress: its backend has not finished with it yet
        raise ServiceUnavailable("The database did not confirm the write in time: it may or may not have been "
                                 "applied. Read it back before trying again.")

    def _translated(self, error: Exception) -> Exception:
        """What a failure of the database means to the client."""
        if isinstance(error, (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError)):
            return LockWaitExpired()
        if isinstance(error, asyncpg.UniqueViolationError):  # outside insert_unique: a checked value taken meanwhile
            return ConcurrentChange()
        if isinstance(error, asyncpg.QueryCanceledError):  # PostgreSQL's statement timeout
            return self._down(health.too_slow(self.timeout_s))
        if isinstance(error, asyncpg.DiskFullError):
            return self._down(health.DISK_FULL)
        if isinstance(error, asyncpg.ReadOnlySQLTransactionError):
            return self._down(health.READ_ONLY)
        if isinstance(error, asyncpg.InsufficientResourcesError):
            return self._down(Outage("insufficient resources", f"The database is out of resources ({error}); "
                                     "try again shortly."))
        return error

    async def _probe(self) -> None:
        outage = self.health.outage
        if outage is not None and outage.writes_only:
            await self._transact(lambda tx: tx.execute(PROBE_WRITE), _WRITE, time.monotonic() + PROBE_TIMEOUT_S,
                                 probing=True)
            return
        await self._transact(lambda tx: tx.rows(PING), _READ_ONE, time.monotonic() + PROBE_TIMEOUT_S, probing=True)

    async def start(self) -> None:
        """Connections open as requests need them; the tables are kept vacuumed where PostgreSQL
        does not, and analyzed while young (see ovp.store.housekeeping)."""
        self._housekeeping = asyncio.get_running_loop().create_task(housekeeping.keep_house(self._dsn))

    async def close(self) -> None:
        await super().close()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
            self._housekeeping = None
        await self._pool.close(PROBE_TIMEOUT_S)


def _reason(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
