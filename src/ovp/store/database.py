"""The database: what every backend offers (ovp.store.sqlite, ovp.store.postgres), and the
rules of the layer, which the code enforces.

A request's work is a plain function of a `Transaction`. It runs inside the transaction and
cannot `await`: the only pauses inside a transaction are the backend's own waits for the
database, so a transaction is never held open while a request waits on anything else. A work
that returns an awaitable is refused.

- `write(work)`: in a write transaction shared with the writes that arrive meanwhile (group
  commit, see ovp.store.group_commit). A work may therefore run more than once (its group failed
  for another work's sake, or the connection broke before COMMIT), so it must do nothing outside
  its transaction that it would regret doing twice.
- `write_long(work)`: a write that may take long (a whole rate deck, a seed, a reset): in a
  transaction of its own, and on SQLite on a thread of its own, so other requests go on meanwhile.
- `read(work)`: statements that must agree (a page and its total) read one snapshot.
- `read_one(work)`: one SELECT, consistent by itself; a second statement, or any other kind of
  statement, is refused.

Every operation is bounded by the database's deadline (`--db-timeout`): past it, the request gets a
503 in Telnyx's envelope and the database is marked unavailable (see ovp.store.health).

Statements are written with SQLAlchemy Core and compiled once per dialect; the backends run the
compiled SQL on the driver's connection. SQLAlchemy's execution layer cost about 100 µs a
statement here, several times the query itself.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import Dialect, Select, text
from sqlalchemy.sql import ClauseElement, visitors
from sqlalchemy.sql.dml import UpdateBase

from ovp.domain.errors import ServiceUnavailable
from ovp.store.health import PROBE_INTERVAL_S, Health, Outage

log = logging.getLogger("ovp")
Row = Sequence[Any]
T = TypeVar("T")
Work = Callable[["Transaction"], T]


class LayerRuleBroken(RuntimeError):
    """A caller of the store broke one of its rules (see this module's documentation)."""


@dataclass(frozen=True)
class Compiled:
    """A statement's SQL for one driver; `names`: for drivers with positional parameters ($1,
    $2, ...), the parameter each position takes."""

    sql: str
    names: tuple[str, ...] | None

    def arguments(self, params: Mapping[str, Any]) -> tuple[Any, ...]:
        assert self.names is not None
        return tuple(params[name] for name in self.names)


class Statement:
    """A Core statement, compiled once for each driver it runs on."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        # A SELECT may write through a data-modifying WITH (PostgreSQL): then it is no read.
        writes = any(isinstance(element, UpdateBase) for element in visitors.iterate(statement))
        self.is_select = not writes and (
            isinstance(statement, Select) or str(statement).lstrip().upper().startswith("SELECT"))
        self._compiled: dict[tuple[str, str], Compiled] = {}

    def compiled(self, dialect: Dialect) -> Compiled:
        key = (dialect.name, dialect.driver)
        found = self._compiled.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            positions = getattr(compiled, "positiontup", None)  # SQLCompiler's, for positional drivers
            names = tuple(positions) if dialect.positional and positions is not None else None
            found = self._compiled[key] = Compiled(str(compiled), names)
        return found


PING = Statement(text("SELECT 1"))
# A write to a row that only ovp's probes touch: whether the database takes writes again after an
# outage that stopped them (a full disk). The same upsert runs on SQLite and PostgreSQL.
PROBE_WRITE = Statement(text(
    "INSERT INTO ovp_probe (id, beat) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET beat = ovp_probe.beat + 1"
))


class Transaction(ABC):
    """What a work sees: statements run in one transaction, and answer at once."""

    def __init__(self, dialect: Dialect, *, read_only: bool = False, statements: int | None = None,
                 rehearse: bool = False) -> None:
        """`rehearse`: each work runs twice, the first time undone (see Database.rehearse_writes)."""
        self.dialect = dialect
        self.rehearse = rehearse
        self._read_only = read_only
        self._statements_left = statements
        # The rows this transaction locked FOR UPDATE, as it last read or wrote them: nobody else
        # can change them before it ends, so it reads each once (see ovp.store.documents). A group
        # of PATCHes or authorizations of one profile locks it once.
        self.locked: dict[tuple[str, str, int], tuple[str, int, int]] = {}
        self.appended: list[tuple[Statement, Mapping[str, Any]]] = []
        # Small settings read once a transaction (an account's channel limit), by what they are;
        # kept up to date by the transaction's own writes of them.
        self.remembered: dict[tuple[str, str], Any] = {}

    def forget_reads_of(self, table: str) -> None:
        """Forgets what the transaction remembered of `table`'s rows (keys that start with its
        name): its own write may have changed them."""
        for key in [key for key in self.remembered if key[0] == table]:
            del self.remembered[key]

    def _check(self, statement: Statement) -> None:
        """Enforces what a read may do: only SELECTs, and in `read_one` only one."""
        if self._read_only and not statement.is_select:
            raise LayerRuleBroken(f"a read ran a statement that is not a SELECT: {statement.statement}")
        if self._statements_left is not None:
            if self._statements_left == 0:
                raise LayerRuleBroken("read_one ran a second statement; several statements take read()")
            self._statements_left -= 1

    @abstractmethod
    def execute(self, statement: Statement, params: Mapping[str, Any] | None = None) -> int:
        """Runs a statement that returns no rows; answers how many rows it changed."""

    def execute_later(self, statement: Statement, params: Mapping[str, Any]) -> None:
        """Runs a write whose answer nobody waits for (it changes a row this transaction locked):
        a backend may send it with the transaction's next statement, or with COMMIT."""
        self.execute(statement, params)

    def append(self, statement: Statement, params: Mapping[str, Any]) -> None:
        """Runs an INSERT of a record that nothing in the transaction reads back and whose row can
        change no answer (a refused call's): kept until COMMIT, when all the transaction's go in
        one driver call, so that a group of refusals costs one statement."""
        self._check(statement)
        self.appended.append((statement, params))

    def before_commit(self) -> None:
        """Sends what execute_later and append kept back; the backends call it before COMMIT."""
        self.flush()
        appended, self.appended = self.appended, []
        for statement, run in itertools.groupby(appended, key=lambda entry: entry[0]):
            self.execute_many(statement, [params for _statement, params in run])

    @abstractmethod
    def run(self, sql: str) -> None:
        """Runs a statement of ovp's own, without parameters (a savepoint)."""

    @abstractmethod
    def flush(self) -> None:
        """Sends the writes that execute_later kept back; the backends call it before COMMIT."""

    @abstractmethod
    def execute_many(self, statement: Statement, rows: Iterable[Mapping[str, Any]]) -> None:
        """Runs a statement once for each row of parameters, in one driver call."""

    @abstractmethod
    def rows(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[Row]:
        """The rows a SELECT (or a statement with RETURNING) answers."""

    @abstractmethod
    def insert_unique(self, statement: Statement, params: Mapping[str, Any]) -> bool:
        """Runs an INSERT; answers False, having changed nothing, when it breaks a unique key."""

    def scalar(self, statement: Statement, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        found = self.rows(statement, params)
        return found[0][0] if found else None

    # Whether rows_many sends its statements at once, in one round trip.
    sends_many_at_once: ClassVar[bool] = False

    def rows_many(self, statement: Statement, params: Sequence[Mapping[str, Any]]) -> list[Row]:
        """The rows a statement answers, run once for each set of parameters, in order."""
        return [row for one in params for row in self.rows(statement, one)]


class OneStatement(Generic[T]):
    """A write work that, as a rule, is one statement: where the transaction sends many statements
    at once, the works of a group that share the statement go together, in one round trip (see
    run_group). `key`: the first column of the row the statement answers for this work;
    `answer`: the work's result from that row; `then`: what the work does after its statement,
    with its result (it may only append, see Transaction.append). When the statement answers no
    row for the work (it found nothing to change), the work runs in full instead, and finds out why."""

    def __init__(self, work: Work[T], statement: Statement, params: Mapping[str, Any], key: object,
                 answer: Callable[[Row], T], then: Callable[[Transaction, T], None] | None = None) -> None:
        self.work = work
        self.statement = statement
        self.params = params
        self.key = key
        self.answer = answer
        self.then = then

    def __call__(self, tx: Transaction) -> T:
        return self.work(tx)


def run_group(works: Sequence[Work[Any]], tx: Transaction) -> list[Any]:
    """Runs the works of a group, in one transaction, and answers their results in their order.
    None of them is answered before the group commits, so they all came while the others were
    under way, and any order is one in which they could have come: where the transaction sends
    many statements at once, the OneStatement works that share a statement go first, together
    (a statement that runs once cannot do anything twice, so they are not rehearsed)."""
    results: dict[int, Any] = {}
    if tx.sends_many_at_once:
        together: dict[Statement, list[tuple[int, OneStatement[Any]]]] = {}
        keys: set[tuple[Statement, object]] = set()
        for index, work in enumerate(works):
            if isinstance(work, OneStatement) and (work.statement, work.key) not in keys:
                keys.add((work.statement, work.key))  # the same key twice: the second runs in full, after
                together.setdefault(work.statement, []).append((index, work))
        for statement, sharing in together.items():
            answered = {row[0]: row for row in tx.rows_many(statement, [work.params for _index, work in sharing])}
            for index, work in sharing:
                row = answered.get(work.key)
                if row is not None:
                    results[index] = work.answer(row)
                    if work.then is not None:
                        work.then(tx, results[index])
    for index, work in enumerate(works):
        if index not in results:
            results[index] = run_work(work, tx)
    return [results[index] for index in range(len(works))]


def run_work(work: Work[T], tx: Transaction) -> T:
    """Runs a work, refusing one that would await (see this module's documentation). In a
    rehearsing transaction the work runs once and is undone first: a work that did something
    outside its transaction would show it twice."""
    if tx.rehearse:
        tx.run("SAVEPOINT ovp_rehearsal")
        appended = len(tx.appended)
        try:
            _awaiting_nothing(work, work(tx))
            tx.flush()
        finally:
            tx.run("ROLLBACK TO SAVEPOINT ovp_rehearsal")
            tx.run("RELEASE SAVEPOINT ovp_rehearsal")
            tx.locked.clear()
            tx.remembered.clear()
            del tx.appended[appended:]
    return _awaiting_nothing(work, work(tx))


def _awaiting_nothing(work: Work[T], result: T) -> T:
    if inspect.isawaitable(result):
        if inspect.iscoroutine(result):
            result.close()
        raise LayerRuleBroken(f"{work!r} is asynchronous: a work runs inside a transaction and must not await")
    return result


class DatabaseObserver(Protocol):
    """What a database reports of itself, for the server's metrics."""

    def operation(self, name: str, seconds: float) -> None: ...

    def group(self, size: int) -> None: ...

    def availability(self, available: bool) -> None: ...


class Database(ABC):
    """Hands out transactions (see this module's documentation); one per backend.

    `rehearse_writes`, for test suites: every write work runs twice in its transaction, the
    first time undone, so that a work breaking the rule that it may run twice fails the tests."""

    backend: ClassVar[str]
    dialect: Dialect

    def __init__(self, timeout_s: float, *, rehearse_writes: bool = False) -> None:
        self.timeout_s = timeout_s
        self.rehearse_writes = rehearse_writes
        self.observer: DatabaseObserver | None = None
        self._served_at = -math.inf
        self.health = Health(self._availability_changed)
        self._watcher: asyncio.Task[None] | None = None

    @abstractmethod
    async def migrate(self) -> None:
        """Brings the schema up to date (see ovp.store.migrate)."""

    async def write(self, work: Work[T]) -> T:
        return await self._timed("write", self._write(work))

    async def write_long(self, work: Work[T]) -> T:
        return await self._timed("write_long", self._write_long(work))

    async def read(self, work: Work[T]) -> T:
        return await self._timed("read", self._read(work))

    async def read_one(self, work: Work[T]) -> T:
        return await self._timed("read_one", self._read_one(work))

    def _availability_changed(self, available: bool) -> None:
        if self.observer is not None:
            self.observer.availability(available)

    def _grouped(self, size: int) -> None:
        """Told by group commit how many works each group holds."""
        if self.observer is not None:
            self.observer.group(size)

    def served_within(self, seconds: float) -> bool:
        """Whether an operation succeeded within the last `seconds`."""
        return time.monotonic() - self._served_at <= seconds

    async def _timed(self, operation: str, running: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            result = await running
        finally:
            if self.observer is not None:
                self.observer.operation(operation, time.perf_counter() - started)
        self._served_at = time.monotonic()
        return result

    @abstractmethod
    async def _write(self, work: Work[T]) -> T: ...

    @abstractmethod
    async def _write_long(self, work: Work[T]) -> T: ...

    @abstractmethod
    async def _read(self, work: Work[T]) -> T: ...

    @abstractmethod
    async def _read_one(self, work: Work[T]) -> T: ...

    @abstractmethod
    async def _probe(self) -> None:
        """Raises ServiceUnavailable unless the database serves what the outage prevented."""

    async def ping(self) -> None:
        """Raises ServiceUnavailable unless the database serves now (for /readyz)."""
        self.health.refuse_if_down(write=True)
        await self._probe()

    @abstractmethod
    async def start(self) -> None:
        """Starts the background work of a served database."""

    async def close(self) -> None:
        """Stops the background work and closes the connections."""
        if self._watcher is not None:
            self._watcher.cancel()
            self._watcher = None

    def _down(self, outage: Outage) -> ServiceUnavailable:
        """Records an outage and starts trying the database again and again while it lasts;
        answers the 503 to raise."""
        error = self.health.failed(outage)
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.get_running_loop().create_task(self._watch_until_recovered())
        return error

    async def _watch_until_recovered(self) -> None:
        while self.health.outage is not None:
            await asyncio.sleep(PROBE_INTERVAL_S)
            try:
                await self._probe()
            except ServiceUnavailable:  # still down; the health record says why
                continue
            except Exception:  # a fault of ovp's, not of the database: say so, and keep watching
                log.exception("the database probe failed")
                continue
            self.health.recovered()
