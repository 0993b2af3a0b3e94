"""CPU time spent by the server's processes, and the memory they hold, read from /proc.

Requests/s on a shared machine drifts with what the other tenants do; the CPU time the server
itself spends per request drifts far less, so the harness reports both."""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.e2e.servers import child_processes

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(process_group: int) -> float:
    """User plus system CPU seconds of every live process in the group (the server and its workers)."""
    total_ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # the process ended while we looked
            continue
        fields = after_command(text)
        if int(fields[2]) == process_group:  # field 5 of stat: the process group
            total_ticks += _cpu_ticks(fields)
    return total_ticks / TICKS_PER_SECOND


def tree_cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of a process and of the processes it started that still run
    (a server and its workers), whatever their process group."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # the process ended while we looked
        return 0.0
    own = _cpu_ticks(after_command(text)) / TICKS_PER_SECOND
    return own + sum(tree_cpu_seconds(child) for child in child_processes(pid))


def after_command(stat: str) -> list[str]:
    """The fields of a /proc/PID/stat after the command name: the name, in parentheses, may hold
    spaces, and the fields that follow it are fixed (the first of them is field 3, the state)."""
    return stat[stat.rindex(")") + 2 :].split()


def _cpu_ticks(fields: list[str]) -> int:
    """User plus system clock ticks (fields 14 and 15 of stat), from after_command's fields."""
    return int(fields[11]) + int(fields[12])


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy, summed over its cores: every process (the
    server, PostgreSQL, wrk) and the kernel's work for them (/proc/stat's first line, all but idle
    and iowait)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND


def resident_kib(pid: int) -> int:
    """A server's resident memory: its process and its workers'."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) + sum(resident_kib(child) for child in child_processes(pid))
    raise RuntimeError(f"no VmRSS for process {pid}")


def fixed_work_cpu_us(repeats: int = 5) -> float:
    """The CPU time this thread takes for a fixed piece of pure-Python work (the least of `repeats`):
    the machine's own speed at the moment, which drifts on a shared host. Where a server's CPU a
    request rises with it, the machine slowed, not the server."""
    least = float("inf")
    for _ in range(repeats):
        began = time.thread_time()
        table: dict[int, str] = {}
        for number in range(20_000):
            table[number] = f"{number:08x}"
        sum(len(value) for value in table.values())
        least = min(least, time.thread_time() - began)
    return least * 1e6
