"""The writer lock that SQLite-serving processes take in turn: exclusive, bounded, released."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ovp.domain.errors import ServiceUnavailable
from ovp.store.writer_lock import WriterLock


def test_a_second_holder_waits_then_gets_the_lock(tmp_path: Path) -> None:
    # Two locks on one path are two open file descriptions: they exclude each other as two
    # processes' locks do.
    first, second = WriterLock(str(tmp_path / "ovp.db"), 2.0), WriterLock(str(tmp_path / "ovp.db"), 2.0)
    order: list[str] = []
    with first.held():
        waiter = threading.Thread(target=lambda: _hold(second, order))
        waiter.start()
        time.sleep(0.1)
        order.append("first done")
    waiter.join(timeout=5)
    assert order == ["first done", "second held"]
    assert (tmp_path / "ovp.db-writer").exists()


def test_a_lock_kept_past_the_timeout_is_a_503(tmp_path: Path) -> None:
    holder, waiter = WriterLock(str(tmp_path / "ovp.db"), 5.0), WriterLock(str(tmp_path / "ovp.db"), 0.2)
    with holder.held():
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable), waiter.held():
            pass
        assert 0.2 <= time.monotonic() - started < 1.0
    with waiter.held():  # released with its block
        pass


def _hold(lock: WriterLock, order: list[str]) -> None:
    with lock.held():
        order.append("second held")
