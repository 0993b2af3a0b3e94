"""Group commit: the writes that arrive while one group commits share the next transaction."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ovp.domain.errors import Contended, ServiceUnavailable
from ovp.store.database import Transaction, Work, run_group, run_work

T = TypeVar("T")
# (body, grouped, deadline as time.monotonic()) -> what the body answered
Transact = Callable[[Work[Any], bool, float], Awaitable[Any]]
Pending = tuple[Work[Any], "asyncio.Future[Any]", float]  # the work, its caller's future, when it came
SHUTTING_DOWN = "The server is shutting down; try again shortly."
# A group takes in works that arrive while it runs until it holds this many: it bounds how long
# the first of them waits for the COMMIT.
LATE_UNTIL = 64


class GroupCommit:
    """Collects the write works submitted while a group is running, and runs them all in the next
    transaction. A client hears back only after the commit that holds its write.

    On SQLite, BEGIN and COMMIT cost more than a whole primary-key update, and one writer holds the
    database at a time anyway; on PostgreSQL a group pays its round trips for BEGIN and COMMIT once.

    When one work of a group fails, the whole group is rolled back and each work runs again in a
    transaction of its own, so that a failure reaches only its own caller. Failures are rare (a
    404, a rule broken by the merged profile), and this spares every write two savepoint
    statements. When the database itself cannot serve, every work of the group gets that 503 at
    once: running them one by one would only repeat the wait for each. A work whose caller went
    away before its group began is not run.

    A work's deadline runs from when it came, not from when its group began: a write that waited
    for the group before it to time out has only the rest of its own time left.

    `takes_late`: a group whose works run on the event loop also runs those that arrive before
    its last work is done, while it holds fewer than LATE_UNTIL. On PostgreSQL the works of one
    profile run one after another (its row is locked), each a round trip or two: a group closed
    at its start left the clients that came a moment later to a group, a BEGIN and a COMMIT of
    their own (with 32 clients, groups of 29 and 3 took turns). SQLite's works run on a thread,
    which must not touch the list the loop appends to.

    `overlaps_commits` (PostgreSQL): the next group begins as soon as the one before has run its
    last work, while that one still writes its appended rows and commits. Its BEGIN, its
    transaction id and its first reads then take no turn of their own: each is a round trip, and
    under load each round trip waits for the event loop among the other requests. A work of the
    next group that needs a row the one before holds waits in PostgreSQL for that COMMIT, which
    needs no lock: the two cannot deadlock. It is what two servers' groups do on one database, and
    at most one group runs its works while one commits (or, having failed, runs its works again one
    by one: each then waits for locks as any other server's transaction, and the next group, which
    waits for a lock only briefly, gives up rather than deadlock with it).
    """

    def __init__(
        self, transact: Transact, timeout_s: float, sized: Callable[[int], object] = lambda _size: None, *,
        takes_late: bool = False, overlaps_commits: bool = False,
    ) -> None:
        """`sized`: told the number of works each group holds."""
        self._transact = transact
        self._timeout_s = timeout_s
        self._sized = sized
        self._takes_late = takes_late
        self._overlaps_commits = overlaps_commits
        self._pending: list[Pending] = []
        self._flusher: asyncio.Task[None] | None = None
        self._committing: asyncio.Task[None] | None = None  # the group before, still committing

    async def submit(self, work: Work[T]) -> T:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._pending.append((work, future, time.monotonic()))
        if self._flusher is None:
            self._flusher = loop.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = [pending for pending in self._pending if not pending[1].done()], []
                if not batch:
                    continue
                if self._overlaps_commits:
                    await self._start(batch)
                else:
                    await self._run(batch)
        except asyncio.CancelledError:
            for _work, future, _came in self._pending:
                _settle(future, None, ServiceUnavailable(SHUTTING_DOWN))
            raise
        finally:
            self._flusher = None

    async def _start(self, batch: list[Pending]) -> None:
        """Runs the group in a task of its own, and returns once it has run its works (or ended),
        the group before it having committed by then."""
        loop = asyncio.get_running_loop()
        ran: asyncio.Future[None] = loop.create_future()
        group = loop.create_task(self._run(batch, ran))
        try:
            await asyncio.wait([group, ran], return_when=asyncio.FIRST_COMPLETED)
            committing, self._committing = self._committing, None
            if committing is not None:
                await committing
        except asyncio.CancelledError:
            group.cancel()  # as the groups were when they ran in the flusher
            raise
        if group.done():
            group.result()  # a fault of the group's own code reaches the flusher, as when it ran there
        else:
            self._committing = group

    async def _run(self, batch: list[Pending], ran: asyncio.Future[None] | None = None) -> None:
        """`ran`: told when the group has run its works, before its COMMIT."""
        together = len(batch) > 1 and await self._run_together(batch, ran)
        self._sized(len(batch))  # with the works it took in late
        if together:
            return
        for index, (work, future, came) in enumerate(batch):
            if future.done():  # its caller went away meanwhile
                continue
            failure = await self._run_alone(work, future, came + self._timeout_s, ran)  # the first tells
            if database_down(failure):
                # The next would wait as long for the same answer.
                for _work, waiting, _came in batch[index + 1:]:
                    _settle(waiting, None, failure)
                return

    async def _run_together(self, batch: list[Pending], ran: asyncio.Future[None] | None) -> bool:
        """Answers False when the works must run again one by one. `batch` grows by the works
        the group takes in late."""

        def body(tx: Transaction) -> list[Any]:
            results = run_group([work for work, _future, _came in batch], tx)
            while self._takes_late and len(batch) < LATE_UNTIL and (late := self._take(LATE_UNTIL - len(batch))):
                batch.extend(late)
                results.extend(run_group([work for work, _future, _came in late], tx))
            _tell(ran)
            return results

        try:
            results = await self._transact(body, True, batch[0][2] + self._timeout_s)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # rolled back whole (a work may raise anything: it is the caller's)
            if not database_down(error):
                return False  # a work's own failure, or a lock held by another server's group
            for _work, future, _came in batch:
                _settle(future, None, error)
            return True
        for (_work, future, _came), result in zip(batch, results, strict=True):
            _settle(future, result, None)
        return True

    def _take(self, room: int) -> list[Pending]:
        """Up to `room` of the works waiting, whose callers are still there."""
        waiting = [pending for pending in self._pending if not pending[1].done()]
        taken, self._pending = waiting[:room], waiting[room:]
        return taken

    async def _run_alone(self, work: Work[Any], future: asyncio.Future[Any], deadline: float,
                         ran: asyncio.Future[None] | None = None) -> Exception | None:
        """Answers the failure it handed to the work's caller, if any."""

        def body(tx: Transaction) -> Any:
            result = run_work(work, tx)
            _tell(ran)
            return result

        try:
            result = await self._transact(body, False, deadline)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # the work's own failure, handed back to its caller
            _settle(future, None, error)
            return error if isinstance(error, Exception) else None
        _settle(future, result, None)
        return None


def database_down(failure: BaseException | None) -> bool:
    """The database could not serve (not a lock merely held a while by another group): every
    other work would wait as long and fail the same."""
    return isinstance(failure, ServiceUnavailable) and not isinstance(failure, Contended)


def _tell(ran: asyncio.Future[None] | None) -> None:
    """Tells the flusher that a group has run its works (on the event loop's thread: only a
    group whose works run there is told; a body run again after a lost connection, twice)."""
    if ran is not None and not ran.done():
        ran.set_result(None)


def _settle(future: asyncio.Future[Any], result: Any, failure: BaseException | None) -> None:
    if future.done():  # its caller went away (a cancelled request)
        return
    if failure is None:
        future.set_result(result)
    else:
        future.set_exception(failure)
