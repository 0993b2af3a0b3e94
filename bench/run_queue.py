"""How long each process of a load ran, and how long it waited for a core, from the kernel's
scheduler statistics (/proc/PID/task/TID/schedstat: time on a core, time runnable in the run queue).

A machine can be a fifth idle on average and still keep each process waiting: requests that hop
from process to process (a switch to ovp, ovp to PostgreSQL and back) wait for a core at every hop
when the cores are busy most of the time. The time a component spent waiting for a core, beside
the time it ran, says how much of its latency the cores cost.

Processes come and go within a load (SIPp's callers, a database's backends), so a thread reads
every task's statistics every SAMPLE_S and sums each one's growth, by the component a classifier
names it by; a task that ends between two reads loses at most that much."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from bench.cpu import after_command, machine_busy_seconds

SAMPLE_S = 0.25


@dataclass(frozen=True)
class Task:
    """What a classifier knows of a process: its id, process group, command name and command line."""

    pid: int
    group: int
    name: str
    command: str


Classify = Callable[[Task], str | None]  # the component a process belongs to, None for none


@dataclass(frozen=True)
class Share:
    ran_s: float  # on a core, summed over the component's threads
    waited_s: float  # runnable, waiting for a core


def serves_database(database_url: str) -> Callable[[Task], bool]:
    """Whether a process is a PostgreSQL backend serving the database of `database_url` (none is,
    for an SQLite URL)."""
    database = make_url(database_url).database if database_url.startswith("postgresql") else None
    return lambda task: (database is not None and task.command.startswith("postgres: ")
                         and f" {database} " in task.command)


def _task(pid: int) -> Task | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:  # the process ended while we looked
        return None
    name = stat[stat.index("(") + 1: stat.rindex(")")]
    return Task(pid, int(after_command(stat)[2]), name, command)


def _threads(pid: int) -> dict[tuple[int, int], tuple[int, int]]:
    """Each thread's nanoseconds on a core and in the run queue."""
    found: dict[tuple[int, int], tuple[int, int]] = {}
    try:
        for thread in Path(f"/proc/{pid}/task").iterdir():
            ran, waited, _slices = (int(value) for value in (thread / "schedstat").read_text().split())
            found[(pid, int(thread.name))] = (ran, waited)
    except (OSError, ValueError):  # the process or a thread ended while we looked
        pass
    return found


class RunQueue:
    """Samples the components' threads for `window_s` from `start()` (or until `stop()`, if sooner),
    in a thread of its own, and the whole machine's busy time over the same window."""

    def __init__(self, classify: Classify, window_s: float) -> None:
        self._classify = classify
        self._window_s = window_s
        self._seen: dict[tuple[int, int], tuple[int, int]] = {}
        self._components: dict[int, str] = {}  # pid -> component, as first named
        self._totals: dict[str, list[int]] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._machine_busy = 0.0  # the machine's cores busy over the window, a share of them all

    def start(self) -> None:
        self._sample(count=False)  # what ran before the load is not counted
        self._thread = threading.Thread(target=self._run, name="run-queue", daemon=True)
        self._thread.start()

    def stop(self) -> dict[str, Share]:
        """Each component's share over the window (or until now, if it has not ended)."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()
        return {component: Share(ran / 1e9, waited / 1e9) for component, (ran, waited) in self._totals.items()}

    @property
    def machine_busy(self) -> float:
        """The share of all the machine's cores busy over the window (once stopped)."""
        return self._machine_busy

    def _run(self) -> None:
        began, busy = time.monotonic(), machine_busy_seconds()
        ends = began + self._window_s
        while not self._stopping.wait(max(min(SAMPLE_S, ends - time.monotonic()), 0.0)):
            self._sample(count=True)
            if time.monotonic() >= ends:
                break
        else:
            self._sample(count=True)
        elapsed = time.monotonic() - began
        self._machine_busy = (machine_busy_seconds() - busy) / elapsed / (os.cpu_count() or 1)

    def _component(self, pid: int) -> str | None:
        """A process named once keeps its name; one not named yet is looked at again each time: a
        process just forked has its parent's name until it runs its own program (SIPp) or names
        itself (a PostgreSQL backend)."""
        if pid not in self._components:
            task = _task(pid)
            component = None if task is None else self._classify(task)
            if component is None:
                return None
            self._components[pid] = component
        return self._components[pid]

    def _sample(self, *, count: bool) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            component = self._component(int(entry.name))
            if component is None:
                continue
            for key, (ran, waited) in _threads(int(entry.name)).items():
                before_ran, before_waited = self._seen.get(key, (0, 0))
                self._seen[key] = (ran, waited)
                if count:
                    total = self._totals.setdefault(component, [0, 0])
                    total[0] += ran - before_ran
                    total[1] += waited - before_waited


def shares_line(shares: dict[str, Share], seconds: float) -> str:
    """Each component's cores: running, then waiting for one (a second's worth each second)."""
    return ", ".join(f"{component} {share.ran_s / seconds:.2f} ran / {share.waited_s / seconds:.2f} waited"
                     for component, share in sorted(shares.items()))
