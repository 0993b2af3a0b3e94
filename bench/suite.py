"""`python -m bench --suite` (what `make bench` runs): the ceilings, then every configuration, in
one run, with each figure stated as a ratio.

These machines differ by two to three times from one day to the next, so a figure is only
compared with another measured in the same run: the HTTP ceiling (a bare ASGI app on the same
server), the database ceiling (pgbench's single-row UPDATE at the same number of connections), and
ovp's own figures on the other backend or with another number of workers.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import psycopg
from sqlalchemy.engine import make_url
from tests.databases import scratch_postgres_database

from bench.ceilings import database_ceiling, http_ceiling
from bench.options import Options
from bench.report import RESULTS_PATH, Outcome, markdown_table
from bench.scenarios import SCENARIOS

SUITE_SCENARIOS = ("list_alone", "patch", "get", "list", "calls")
# The HTTP servers compared, on SQLite with one worker: Granian (what `ovp serve` runs) and uvicorn.
COMPARED_SERVERS = ("granian", "uvicorn")
COMPARED_SCENARIOS = ("patch", "get", "calls")
SUITE_RESULTS_PATH = RESULTS_PATH.with_name("suite.json")
Measure = Callable[[Options, str, "str | None", int, Sequence[str]], list[Outcome]]


@dataclass(frozen=True)
class Configuration:
    label: str
    postgres: bool
    workers: int


CONFIGURATIONS = (
    Configuration("SQLite, 1 worker", postgres=False, workers=1),
    Configuration("SQLite, 2 workers", postgres=False, workers=2),
    Configuration("PostgreSQL, 1 worker", postgres=True, workers=1),
    Configuration("PostgreSQL, 2 workers", postgres=True, workers=2),
)


@dataclass(frozen=True)
class Ratio:
    """A floor the issue tracker sets, as a ratio between two figures of the same run."""

    description: str
    value: float | None  # None: a figure it needs was not measured
    floor: float
    # The most this machine's cores allow the ratio, where its figures share them (see _cores_bound).
    bound: float | None = None

    @property
    def status(self) -> str:
        return "SKIP" if self.value is None else ("PASS" if self.value >= self.floor else "FAIL")

    def line(self) -> str:
        shown = "-" if self.value is None else f"{self.value:.2f}"
        bound = "" if self.bound is None else f"; this machine's {os.cpu_count()} cores allow at most {self.bound:.2f}"
        return f"floor: {self.description}: {shown} (at least {self.floor:g}{bound}): {self.status}"


def _cores_bound(results: dict[str, dict[str, Outcome]], configuration: str, scenario: str) -> float | None:
    """How many times a configuration's rate the machine could serve at most, its cores all busy
    at the CPU the whole machine spent per request (the server, PostgreSQL, wrk and the kernel):
    a second worker cannot go beyond it, whatever the server does."""
    outcome = results.get(configuration, {}).get(scenario)
    cores = os.cpu_count()
    if outcome is None or outcome.result is None or not outcome.machine_cpu_us_per_request or not cores:
        return None
    busy_cores = outcome.result.requests_per_s * outcome.machine_cpu_us_per_request / 1e6
    return cores / busy_cores if busy_cores else None


def _rate(results: dict[str, dict[str, Outcome]], configuration: str, scenario: str) -> float | None:
    outcome = results.get(configuration, {}).get(scenario)
    if outcome is None or outcome.result is None or outcome.failures:
        return None
    return outcome.result.requests_per_s


def _over(numerator: float | None, denominator: float | None) -> float | None:
    return None if numerator is None or not denominator else numerator / denominator


def ratios(results: dict[str, dict[str, Outcome]], pgbench_tps: float | None) -> list[Ratio]:
    sqlite, _sqlite_2, postgres, postgres_2 = (configuration.label for configuration in CONFIGURATIONS)
    calls = results.get(postgres, {}).get("calls")
    calls_p99_ok = calls is not None and calls.result is not None and calls.result.p99_ms < 20
    found = [
        Ratio("PostgreSQL 1 worker PATCH / pgbench single-row UPDATE",
              _over(_rate(results, postgres, "patch"), pgbench_tps), 1.5),
        Ratio("PostgreSQL 1 worker PATCH / SQLite 1 worker PATCH",
              _over(_rate(results, postgres, "patch"), _rate(results, sqlite, "patch")), 0.6),
        Ratio("PostgreSQL 1 worker authorize + answer + end / SQLite 1 worker (with p99 < 20 ms)",
              _over(_rate(results, postgres, "calls"), _rate(results, sqlite, "calls")) if calls_p99_ok else 0.0,
              0.6),
        Ratio("PostgreSQL GET one, 2 workers / 1 worker",
              _over(_rate(results, postgres_2, "get"), _rate(results, postgres, "get")), 1.6,
              _cores_bound(results, postgres, "get")),
    ]
    found += [
        Ratio(f"{configuration.label} list (20) after the PATCHes / the same list alone",
              _over(_rate(results, configuration.label, "list"), _rate(results, configuration.label, "list_alone")),
              0.7)
        for configuration in CONFIGURATIONS
    ]
    return found


def _postgres_answers(url: str) -> bool:
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        with psycopg.connect(libpq, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _table(results: dict[str, dict[str, Outcome]], ceiling: float) -> str:
    rows = [f"HTTP ceiling (bare ASGI app, same server): {ceiling:,.0f} requests/s", ""]
    for label, outcomes in results.items():
        rows += [f"### {label}", "", markdown_table(list(outcomes.values())), ""]
        shares = ", ".join(
            f"{outcome.scenario.label} {outcome.result.requests_per_s / ceiling:.2f}"
            for outcome in outcomes.values() if outcome.result is not None
        )
        rows += [f"share of the HTTP ceiling: {shares}", ""]
    return "\n".join(rows)


@dataclass(frozen=True)
class ServerFigures:
    """One HTTP server's figures in the comparison: its own ceiling, and ovp on it."""

    server: str
    ceiling: float
    outcomes: dict[str, Outcome]


def compare_servers(options: Options, wrk_path: str, measure: Measure,
                    say: Callable[[str], None]) -> list[ServerFigures]:
    """Each server's HTTP ceiling and ovp's PATCH, GET and authorize + answer + end on it (SQLite, one worker)."""
    compared = []
    for server in COMPARED_SERVERS:
        say(f"== server comparison: {server}")
        ceiling = http_ceiling(wrk_path, seconds=options.duration, rounds=options.rounds,
                               connections=options.connections, threads=options.threads, server_name=server)
        outcomes = measure(dataclasses.replace(options, server=server), wrk_path, None, 1, COMPARED_SCENARIOS)
        compared.append(ServerFigures(server, ceiling, {outcome.scenario.key: outcome for outcome in outcomes}))
    return compared


def _comparison_table(compared: list[ServerFigures]) -> str:
    header = ["server", "HTTP ceiling", *(SCENARIOS[key].label for key in COMPARED_SCENARIOS)]
    rows = ["| " + " | ".join(header) + " |", "|---|" + "--:|" * (len(header) - 1)]
    for figures in compared:
        cells = [figures.server, f"{figures.ceiling:,.0f}"]
        for key in COMPARED_SCENARIOS:
            outcome = figures.outcomes.get(key)
            result = outcome.result if outcome is not None else None
            cells.append("-" if result is None else f"{result.requests_per_s:,.0f}, p99 {result.p99_ms:.1f} ms")
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(["### The HTTP servers (SQLite, 1 worker; requests/s)", "", *rows, ""])


def run_suite(options: Options, wrk_path: str, measure: Measure, say: Callable[[str], None]) -> int:
    compared = compare_servers(options, wrk_path, measure, say)
    ceiling = compared[0].ceiling  # the bare app on Granian, as ovp is served
    postgres_ready = _postgres_answers(options.postgres_url)
    if not postgres_ready:
        say(f"no PostgreSQL answers at {options.postgres_url}: its configurations are not measured")
    results: dict[str, dict[str, Outcome]] = {}
    for configuration in CONFIGURATIONS:
        if configuration.postgres and not postgres_ready:
            continue
        say(f"== {configuration.label}")
        outcomes = measure(options, wrk_path, options.postgres_url if configuration.postgres else None,
                           configuration.workers, SUITE_SCENARIOS)
        results[configuration.label] = {outcome.scenario.key: outcome for outcome in outcomes}
    pgbench_tps = None
    if postgres_ready:
        say(f"measuring the database ceiling (pgbench, single-row UPDATE, {options.connections} clients)")
        with scratch_postgres_database(options.postgres_url) as url:
            pgbench_tps = database_ceiling(url, seconds=options.duration, rounds=options.rounds,
                                           connections=options.connections)
    found = ratios(results, pgbench_tps)
    print(_comparison_table(compared))
    print(_table(results, ceiling))
    if pgbench_tps is not None:
        print(f"database ceiling (pgbench single-row UPDATE, {options.connections} clients): {pgbench_tps:,.0f} tps\n")
    failures = [f"FAIL {label} {outcome.scenario.label}: {failure}"
                for label, outcomes in results.items() for outcome in outcomes.values()
                for failure in outcome.failures]
    print("\n".join(failures + [ratio.line() for ratio in found]))
    _write(options, compared, pgbench_tps, results, found)
    say(f"results written to {SUITE_RESULTS_PATH}")
    return 1 if failures or (options.check_floor and any(ratio.status == "FAIL" for ratio in found)) else 0


def _write(options: Options, compared: list[ServerFigures], pgbench_tps: float | None,
           results: dict[str, dict[str, Outcome]], found: list[Ratio]) -> None:
    ceiling = compared[0].ceiling
    document: dict[str, Any] = {
        "settings": {"duration_s": options.duration, "rounds": options.rounds, "connections": options.connections,
                     "threads": options.threads},
        "http_ceiling_requests_per_s": ceiling,
        "servers": {figures.server: {"http_ceiling_requests_per_s": figures.ceiling,
                                     **{key: outcome.result.requests_per_s if outcome.result else None
                                        for key, outcome in figures.outcomes.items()}}
                    for figures in compared},
        "pgbench_single_row_update_tps": pgbench_tps,
        "configurations": {
            label: {key: {"requests_per_s": outcome.result.requests_per_s if outcome.result else None,
                          "p99_ms": outcome.result.p99_ms if outcome.result else None,
                          "server_cpu_us_per_request": outcome.cpu_us_per_request,
                          "machine_cpu_us_per_request": outcome.machine_cpu_us_per_request,
                          "authorizations_per_s": outcome.authorizations_per_s,
                          "failures": outcome.failures}
                    for key, outcome in outcomes.items()}
            for label, outcomes in results.items()
        },
        "floors": [{"floor": ratio.description, "value": ratio.value, "at_least": ratio.floor,
                    "machine_allows_at_most": ratio.bound, "status": ratio.status} for ratio in found],
    }
    SUITE_RESULTS_PATH.parent.mkdir(parents=True, exist_ok=True)
    SUITE_RESULTS_PATH.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n")
