"""Run wrk and turn its human-readable report into numbers.

wrk is a separate process driving the server over loopback, so the load generator never
shares an interpreter (or a GIL) with what it measures. Its text report is parsed rather
than a Lua `done()` hook, so the scripts stay declarations and the parsed text is exactly
what a person running wrk by hand would read.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# A request slower than this counts as a socket timeout, i.e. a failure.
REQUEST_TIMEOUT = "2s"
# wrk runs for --duration; beyond that it only connects and reports. Bound the wait anyway.
EXTRA_SECONDS = 30

_TIME_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
_TIME = r"([\d.]+)(us|ms|s|m|h)\b"
_REQUESTS_PER_S = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in " + _TIME, re.MULTILINE)
_SOCKET_ERRORS = re.compile(
    r"^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$", re.MULTILINE
)
# wrk counts responses with a status of 400 or more here, despite the wording.
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses: (\d+)\s*$", re.MULTILINE)


class WrkError(RuntimeError):
    """wrk could not be run, failed, or printed something this parser does not understand."""


@dataclass(frozen=True)
class SocketErrors:
    connect: int = 0
    read: int = 0
    write: int = 0
    timeout: int = 0

    @property
    def total(self) -> int:
        return self.connect + self.read + self.write + self.timeout


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: SocketErrors

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _milliseconds(value: str, unit: str) -> float:
    return round(float(value) * _TIME_UNITS_MS[unit], 3)


def _percentile_ms(output: str, percentile: int) -> float:
    match = re.search(rf"^\s*{percentile}%\s+{_TIME}\s*$", output, re.MULTILINE)
    if match is None:
        raise WrkError(f"no {percentile}% latency in wrk's output (was --latency passed?):\n{output}")
    return _milliseconds(match[1], match[2])


def parse(output: str) -> WrkResult:
    """Parses wrk 4's report; absent error lines mean zero, as wrk prints them only when non-zero."""
    rate = _REQUESTS_PER_S.search(output)
    total = _TOTAL.search(output)
    if rate is None or total is None:
        raise WrkError(f"cannot read wrk's output:\n{output}")
    sockets = _SOCKET_ERRORS.search(output)
    non_2xx = _NON_2XX.search(output)
    return WrkResult(
        requests=int(total[1]),
        duration_s=_milliseconds(total[2], total[3]) / 1000.0,
        requests_per_s=float(rate[1]),
        p50_ms=_percentile_ms(output, 50),
        p99_ms=_percentile_ms(output, 99),
        non_2xx=int(non_2xx[1]) if non_2xx else 0,
        socket_errors=SocketErrors(*(int(n) for n in sockets.groups())) if sockets else SocketErrors(),
    )


def find_wrk(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise WrkError(f"{name!r} not found; install it (apt-get install wrk) or pass --wrk PATH")
    return path


def run(wrk: str, url: str, script: Path, *, seconds: int, connections: int, threads: int) -> str:
    """Runs one wrk load and returns its report; bounded even if wrk hangs."""
    command = [
        wrk, "--latency",
        "--threads", str(threads),
        "--connections", str(connections),
        "--duration", f"{seconds}s",
        "--timeout", REQUEST_TIMEOUT,
        "--script", str(script),
        url,
    ]  # fmt: skip
    try:
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + EXTRA_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise WrkError(f"wrk did not finish within {seconds + EXTRA_SECONDS} s") from error
    if completed.returncode != 0:
        output = completed.stderr + completed.stdout
        raise WrkError(f"wrk exited with status {completed.returncode}:\n{output}")
    return completed.stdout
