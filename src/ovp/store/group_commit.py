"""Group commit: the writes that arrive during one turn of the event loop share one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ovp.domain.errors import LockWaitExpired, ServiceUnavailable

if TYPE_CHECKING:
    from ovp.store.database import Database, Transaction

T = TypeVar("T")


class GroupCommit:
    """Collects the write works submitted during one turn of the event loop and runs them all in
    one transaction. A client hears back only after the commit that holds its write.

    When one work of a batch fails, the whole batch is rolled back and each work runs again in a
    transaction of its own, so that a failure reaches only its own caller. Failures are rare (a
    404, a rule broken by the merged profile), and this spares every write two savepoint
    statements. When the database itself cannot serve (unreachable, or locked past the bounded
    wait), every work of the batch gets that 503 at once: running them one by one would only
    repeat the wait for each."""

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
        for index, (work, future) in enumerate(batch):
            failure = self._run_alone(work, future)
            if _database_down(failure):
                # The next would wait as long, on the event loop, for the same answer.
                for _work, waiting in batch[index + 1:]:
                    _settle(waiting, None, failure)
                return

    def _run_together(self, batch: list[tuple[Callable[[Transaction], Any], asyncio.Future[Any]]]) -> bool:
        """Answers False when the works must run again one by one."""
        try:
            with self._database.transaction(write=True, grouped=True) as tx:
                results = [work(tx) for work, _future in batch]
        except Exception as error:  # rolled back whole
            if not _database_down(error):
                return False  # a work's own failure, or a lock held by another server's group
            for _work, future in batch:
                _settle(future, None, error)
            return True
        for (_work, future), result in zip(batch, results, strict=True):
            _settle(future, result, None)
        return True

    def _run_alone(self, work: Callable[[Transaction], Any], future: asyncio.Future[Any]) -> Exception | None:
        """Answers the failure it handed to the work's caller, if any."""
        try:
            with self._database.transaction(write=True) as tx:
                result = work(tx)
        except Exception as error:  # the work's own failure, handed back to its caller
            _settle(future, None, error)
            return error
        _settle(future, result, None)
        return None


def _database_down(failure: Exception | None) -> bool:
    """The database could not serve within its bounded wait (not a lock merely held a while by
    another group): every other work would wait as long and fail the same."""
    return isinstance(failure, ServiceUnavailable) and not isinstance(failure, LockWaitExpired)


def _settle(future: asyncio.Future[Any], result: Any, failure: BaseException | None) -> None:
    if future.done():  # its caller went away (a cancelled request)
        return
    if failure is None:
        future.set_result(result)
    else:
        future.set_exception(failure)
