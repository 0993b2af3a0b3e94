"""The run itself: start a server, seed it, load each scenario with wrk, report, stop.

Exit status: 0 when every scenario was clean (and, with --check-floor, every floor run was
met); 1 for any failure; 130 when interrupted. The server is stopped in every case.
"""

from __future__ import annotations

import secrets
import signal
import sys
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from types import FrameType

from sqlalchemy.engine import make_url
from tests.databases import scratch_postgres_database

from bench import wrk
from bench.client import Client
from bench.cpu import group_cpu_seconds, machine_busy_seconds
from bench.options import Options, parse
from bench.report import (
    Outcome,
    floor_lines,
    floor_statuses,
    markdown_table,
    results_document,
    settings_line,
    write_results,
)
from bench.scenarios import SCENARIOS, Scenario, call_counts, call_pairs_lua, lua_script
from bench.seed import SeedError, seed, seed_calls
from bench.server import RunningServer, ServerError, log_tail, running_server
from bench.suite import run_suite


def _say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def _measure(
    options: Options, wrk_path: str, server: RunningServer, client: Client, scenario: Scenario, target: str,
    token: str, workdir: Path,
) -> Outcome:  # fmt: skip
    """Checks the request once by hand, then warms up and measures it with wrk.

    The machine's speed drifts from one run to the next (other tenants share its cores), so each
    scenario is measured several times and the median run, by requests/s, stands for it; a
    failure in any run fails the scenario."""
    request = scenario.request(target, token)
    checked = client.send(request)
    if scenario.call_pairs and checked.ok and b'"decision":"allowed"' not in checked.body:
        return Outcome(scenario, errors=[f"the checked authorization was not allowed: {checked.body[:500]!r}"])
    if not checked.ok:
        return Outcome(
            scenario,
            errors=[
                f"{request.method} {request.path} answered {checked.status} before any load: {checked.body[:500]!r}"
            ],
        )
    script = workdir / f"{scenario.key}.lua"
    script.write_text(call_pairs_lua(request, target) if scenario.call_pairs else lua_script(request))
    url = server.base_url + request.path

    def load(seconds: int) -> str:
        return wrk.run(wrk_path, url, script, seconds=seconds, connections=options.connections, threads=options.threads)

    try:
        if options.warmup:
            _say(f"{scenario.label}: warming up for {options.warmup} s")
            load(options.warmup)
        runs: list[Outcome] = []
        for round_number in range(1, options.rounds + 1):
            _say(f"{scenario.label}: measuring for {options.duration} s (round {round_number} of {options.rounds})")
            cpu_before, machine_before = group_cpu_seconds(server.pid), machine_busy_seconds()
            output = load(options.duration)
            result = wrk.parse(output)
            cpu_us = (group_cpu_seconds(server.pid) - cpu_before) / max(result.requests, 1) * 1e6
            machine_us = (machine_busy_seconds() - machine_before) / max(result.requests, 1) * 1e6
            run = Outcome(scenario, result, cpu_us_per_request=cpu_us, machine_cpu_us_per_request=machine_us)
            if scenario.call_pairs:
                _count_calls(run, output)
            runs.append(run)
            _say(f"{scenario.label}: {result.requests_per_s:,.0f} requests/s, {cpu_us:.0f} µs of server CPU each")
        failing = [run for run in runs if run.failures]
        if failing:
            return failing[0]
        return sorted(runs, key=lambda run: run.result.requests_per_s if run.result else 0.0)[len(runs) // 2]
    except wrk.WrkError as error:
        return Outcome(scenario, errors=[str(error)])


def _count_calls(run: Outcome, output: str) -> None:
    """Authorizations per second for a call-pairs run; any rejection fails it, since the
    profile's limits are set never to be reached and a refused call skips the counters."""
    assert run.result is not None
    authorized, rejected = call_counts(output)
    run.authorizations_per_s = authorized / run.result.duration_s
    if rejected:
        run.errors.append(f"{rejected} authorizations were rejected")


def measure_configuration(
    options: Options, wrk_path: str, database_url: str | None, workers: int, scenario_keys: Sequence[str]
) -> list[Outcome]:
    """Starts a server of `workers` workers on `database_url` (None: SQLite in a temporary file),
    seeds it, and measures each scenario in turn."""
    # A fresh account per run: in open mode the token is the account, so a persistent
    # database (PostgreSQL) still gives each run exactly its own profiles.
    token = f"bench-{secrets.token_hex(6)}"
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="ovp-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        url = database_url or f"sqlite:///{workdir / 'bench.db'}"
        if make_url(url).get_backend_name() == "postgresql":
            # A database of the run's own on that server, dropped afterwards: the server is left as found.
            url = stack.enter_context(scratch_postgres_database(url))
        _say(f"starting ovp with {workers} worker(s) on {options.server}")
        with running_server(url, workers, workdir, server=options.server) as server, \
                Client(server.host, server.port) as client:
            _say(f"server pid {server.pid} on {server.base_url}; creating {options.profiles} profiles")
            target = seed(client, token, options.profiles)
            calls_profile = seed_calls(client, token) if "calls" in scenario_keys else ""
            for key in scenario_keys:
                scenario = SCENARIOS[key]
                subject = calls_profile if scenario.call_pairs else target
                outcomes.append(_measure(options, wrk_path, server, client, scenario, subject, token, workdir))
            if any(outcome.failures for outcome in outcomes):
                _say(f"end of the server log:\n{log_tail(server.log_path)}")
    return outcomes


def _run(options: Options) -> int:
    wrk_path = wrk.find_wrk(options.wrk)
    if options.suite:
        return run_suite(options, wrk_path, measure_configuration, _say)
    outcomes = measure_configuration(options, wrk_path, options.database_url, options.workers, options.scenarios)
    statuses = floor_statuses(outcomes)
    path = write_results(results_document(options, outcomes, statuses))
    print(settings_line(options))
    print()
    print(markdown_table(outcomes))
    print()
    failed = False
    for outcome in outcomes:
        for failure in outcome.failures:
            failed = True
            print(f"FAIL {outcome.scenario.label}: {failure}")
    print("\n".join(floor_lines(statuses)))
    _say(f"results written to {path}")
    return 1 if failed or (options.check_floor and "FAIL" in statuses.values()) else 0


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    """SIGTERM takes the same path as Ctrl-C, so the server is stopped either way."""
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    options = parse(argv)
    # Ctrl-C must reach us even when started from a shell that ignores SIGINT for background jobs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return _run(options)
    except KeyboardInterrupt:
        _say("interrupted; the server was stopped")
        return 130
    except (ServerError, SeedError, wrk.WrkError, OSError) as error:
        _say(f"error: {error}")
        return 1
