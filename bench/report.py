"""Judge and present results: failures, the floors, a Markdown table and a JSON file.

The table is what goes into the README; the JSON keeps the exact numbers and the settings
they were measured with, so two runs can be compared without re-reading terminal output.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import orjson
from sqlalchemy.engine import make_url

from bench.options import Options
from bench.scenarios import Scenario
from bench.wrk import WrkResult

RESULTS_PATH = Path(__file__).with_name("results") / "latest.json"
FLOOR_SCENARIO = "patch"
FLOOR_REQUESTS_PER_S = 5000

FloorStatus = Literal["PASS", "FAIL", "SKIP"]


@dataclass
class Outcome:
    """One scenario's result, or why there is none; either way its failures are listed."""

    scenario: Scenario
    result: WrkResult | None = None
    errors: list[str] = field(default_factory=list)
    cpu_us_per_request: float | None = None
    machine_cpu_us_per_request: float | None = None  # every process's, summed over the cores
    authorizations_per_s: float | None = None  # call pairs only

    @property
    def failures(self) -> list[str]:
        found = list(self.errors)
        if self.result is not None:
            sockets = self.result.socket_errors
            if self.result.requests == 0:
                found.append("no request completed")
            if self.result.non_2xx:
                found.append(f"{self.result.non_2xx} of {self.result.requests} responses were not 2xx")
            if sockets.total:
                found.append(
                    f"{sockets.total} socket errors (connect {sockets.connect}, read {sockets.read}, "
                    f"write {sockets.write}, timeout {sockets.timeout})"
                )
        return found


@dataclass(frozen=True)
class Floor:
    """A figure the issue tracker sets as a minimum, for one scenario."""

    scenario: str
    description: str
    requests_per_s: float = 0.0
    authorizations_per_s: float = 0.0
    p99_ms_below: float | None = None

    def met_by(self, outcome: Outcome) -> bool:
        """A clean run only: a rate full of errors proves nothing."""
        result = outcome.result
        if result is None or outcome.failures:
            return False
        fast_enough = result.requests_per_s >= self.requests_per_s and (
            (outcome.authorizations_per_s or 0.0) >= self.authorizations_per_s
        )
        return fast_enough and (self.p99_ms_below is None or result.p99_ms < self.p99_ms_below)


FLOORS = (
    Floor(FLOOR_SCENARIO, f"PATCH {FLOOR_REQUESTS_PER_S} req/s", requests_per_s=FLOOR_REQUESTS_PER_S),
    # Three requests a call since a switch confirms the answer: 2,000 calls/s is the 3,000 of
    # authorize + end, for the same requests.
    Floor("calls", "authorize + answer + end 2000 authorizations/s, p99 < 10 ms", authorizations_per_s=2000,
          p99_ms_below=10.0),
)


def floor_statuses(outcomes: list[Outcome]) -> dict[str, FloorStatus]:
    """Each floor's status; SKIP when its scenario was not run."""
    by_key = {outcome.scenario.key: outcome for outcome in outcomes}
    statuses: dict[str, FloorStatus] = {}
    for floor in FLOORS:
        outcome = by_key.get(floor.scenario)
        statuses[floor.scenario] = "SKIP" if outcome is None else ("PASS" if floor.met_by(outcome) else "FAIL")
    return statuses


def floor_lines(statuses: dict[str, FloorStatus]) -> list[str]:
    return [
        f"floor: {floor.description}: {statuses[floor.scenario]}"
        + (f" ({floor.scenario} not run)" if statuses[floor.scenario] == "SKIP" else "")
        for floor in FLOORS
    ]


def describe_database(url: str | None) -> str:
    if url is None:
        return "SQLite (temporary file)"
    return make_url(url).render_as_string(hide_password=True)


def settings_line(options: Options) -> str:
    plural = "s" if options.workers > 1 else ""
    return (
        f"wrk: {options.threads} thread, {options.connections} connections, {options.duration} s "
        f"(median of {options.rounds} runs) "
        f"(after {options.warmup} s warm-up); ovp serve: {options.workers} worker{plural}, "
        f"{describe_database(options.database_url)}; {os.cpu_count()} CPUs"
    )


def markdown_table(outcomes: list[Outcome]) -> str:
    rows = [
        "| scenario | requests/s | authorizations/s | p50 ms | p99 ms | server CPU µs/request | non-2xx |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for outcome in outcomes:
        result = outcome.result
        if result is None:
            rows.append(f"| {outcome.scenario.label} | - | - | - | - | - | - |")
        else:
            cpu = f"{outcome.cpu_us_per_request:.0f}" if outcome.cpu_us_per_request is not None else "-"
            calls = f"{outcome.authorizations_per_s:,.0f}" if outcome.authorizations_per_s is not None else "-"
            rows.append(
                f"| {outcome.scenario.label} | {result.requests_per_s:,.0f} | {calls} | {result.p50_ms:.2f} "
                f"| {result.p99_ms:.2f} | {cpu} | {result.non_2xx} |"
            )
    return "\n".join(rows)


def _commit() -> str | None:
    """The commit measured, marked dirty when src/ differs from it, as others edit src concurrently."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "src"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return f"{head}-dirty" if dirty else head


def results_document(options: Options, outcomes: list[Outcome], statuses: dict[str, FloorStatus]) -> dict[str, Any]:
    return {
        "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "cpus": os.cpu_count(),
        "settings": {
            "duration_s": options.duration,
            "rounds": options.rounds,
            "warmup_s": options.warmup,
            "connections": options.connections,
            "threads": options.threads,
            "workers": options.workers,
            "database": describe_database(options.database_url),
            "profiles": options.profiles,
        },
        "scenarios": {
            outcome.scenario.key: {
                "label": outcome.scenario.label,
                "method": outcome.scenario.method,
                "path": outcome.scenario.path_template,
                "result": outcome.result.to_json() if outcome.result else None,
                "server_cpu_us_per_request": outcome.cpu_us_per_request,
                "authorizations_per_s": outcome.authorizations_per_s,
                "failures": outcome.failures,
            }
            for outcome in outcomes
        },
        "floors": [{"scenario": floor.scenario, "floor": floor.description, "status": statuses[floor.scenario]}
                   for floor in FLOORS],
    }


def write_results(document: dict[str, Any], path: Path = RESULTS_PATH) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
    return path
