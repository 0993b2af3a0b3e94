"""What each worker process tells the server's admin listener about itself: a file a worker, in a
directory of the server's own, rewritten every BEAT_S by a task on the worker's event loop. A file
that stops changing is a worker whose loop has stopped turning, whatever its process still does."""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import orjson

BEAT_S = 0.5
# A loop that has not written its state for this long has stopped turning (a turn under a flood
# takes tens of milliseconds, not seconds).
STALLED_S = 2.0


@dataclass(frozen=True)
class WorkerState:
    pid: int
    beat: float  # time.monotonic() when written: the same clock in every process of the machine
    ready: bool  # the worker's database serves
    cause: str | None  # why not, as /readyz names it

    def stalled(self, now: float) -> bool:
        return now - self.beat > STALLED_S


def write(directory: Path, state: WorkerState) -> None:
    """Replaces the worker's file whole, so that a reader never sees half of it."""
    path = directory / str(state.pid)
    partial = path.with_suffix(".partial")
    partial.write_bytes(orjson.dumps(asdict(state)))
    partial.replace(path)


def forget(directory: Path, pid: int) -> None:
    with contextlib.suppress(FileNotFoundError):
        (directory / str(pid)).unlink()


def read_all(directory: Path) -> list[WorkerState]:
    """The state of every worker process alive; the files of those gone are removed."""
    states: list[WorkerState] = []
    for path in directory.iterdir():
        if not path.name.isdigit():
            continue
        try:
            state = WorkerState(**orjson.loads(path.read_bytes()))
        except (FileNotFoundError, orjson.JSONDecodeError, TypeError):
            continue  # replaced or removed while read: the next read sees it whole
        if _alive(state.pid):
            states.append(state)
        else:
            forget(directory, state.pid)
    return sorted(states, key=lambda state: state.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def now() -> float:
    return time.monotonic()
