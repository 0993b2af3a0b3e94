"""Calls through a real switch: how many calls a second Kamailio (ovp's shipped configuration) and
ovp sustain on this machine with no unexpected failure, and the set-up time ovp adds to each call,
on SQLite and on PostgreSQL. `make bench-switch` runs it; it is not part of `make test`.

For each backend: ovp (one worker unless `--ovp-workers` says otherwise, open mode, no rate limit),
a SIPp carrier, and Kamailio between them with -A 'OVP_LOG_WAITS=1'. SIPp then calls at rising
rates, each for `--seconds`: every call authenticates, is authorized, answered (and the answer
confirmed to ovp), hung up after a second and ended in ovp, five requests to ovp a call (its source
address, its credentials, its authorization, its answer, its end). A rate is sustained when every
call was answered, SIPp saw no failure, and ovp's counters agree (no call left active). The set-up
time ovp adds is how long Kamailio waited for ovp's answers to the authenticated INVITE
(credentials, then the authorization), as Kamailio logs it; the first INVITE's address lookup,
answered by the 407 challenge, is not in it. Beside it, SIPp's whole set-up time (authenticated
INVITE to 200 OK). Rates stop rising at the first that is not sustained. Floor: 100 calls/s.
Under each rate, each process's share of the cores: the time it ran, and the time it waited for a
core (bench.run_queue), a second's worth each second, and how busy the machine was.

ovp runs with `--setup-timeout` of the bench's own (10 s by default): once the rates stop, the
bench waits that long (and two seconds more) and counts the calls still holding a slot. A call the
switch confirmed the answer of is ended; one whose set-up failed in the switch (the overload of the
last rate) holds its slot no longer than the set-up timeout: the count of those must be 0. Answered
calls whose hang-up the switch lost are counted apart (Kamailio's dialog timer ends them).
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tests.databases import scratch_postgres_database
from tests.e2e.switch import (
    CALLER,
    CARRIER,
    HOST,
    Kamailio,
    Process,
    free_udp_port,
    installed,
    kamailio_command,
)

from bench.run_queue import RunQueue, Task, serves_database, shares_line
from bench.server import running_server

FLOOR_CALLS_PER_S = 100
CALL_MS = 1000  # each call talks for a second, so that a rate of N holds some N calls at once
TOKEN = "bench-switch"
USER_NAME, PASSWORD = "benchtrunk1", "s3cret-passw0rd"
DESTINATION = "+14155552671"
WAITED = re.compile(r"ovp: call (\S+) waited (\d+) us for ovp")


@dataclass(frozen=True)
class Step:
    rate: int
    calls: int
    answered: int
    failed: int  # SIPp's failed calls, and calls refused
    left_active: int
    ovp_wait_ms: list[float]
    setup_ms: list[float]
    cores: str = ""  # each process's time on a core and waiting for one (bench.run_queue)

    @property
    def sustained(self) -> bool:
        return self.answered == self.calls and self.failed == 0 and self.left_active == 0


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _prepare(origin: str) -> tuple[str, str]:
    """A deck, a profile without limits and a connection in the bench's account; their ids."""
    with httpx.Client(base_url=origin, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        client.put("/ovp/rates", content="prefix,rate\n1,0.0100\n", headers={"Content-Type": "text/csv"}) \
            .raise_for_status()
        profile: str = client.post("/v2/outbound_voice_profiles", json={"name": "bench"}).json()["data"]["id"]
        made = client.post("/v2/credential_connections", json={
            "connection_name": "bench", "user_name": USER_NAME, "password": PASSWORD,
            "outbound": {"outbound_voice_profile_id": profile}})
        made.raise_for_status()
    return profile, made.json()["data"]["id"]


def _held(origin: str, connection: str) -> tuple[int, int]:
    """The connection's calls that hold a slot now: how many still ring (their set-up failed in the
    switch, and ovp was never told), and how many were answered and are not ended (their hang-up
    lost in the switch: Kamailio's dialog timer ends them at their maximum duration)."""
    statuses: list[str] = []
    with httpx.Client(base_url=origin, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        page = 1
        while True:
            listed = client.get(f"/v2/connections/{connection}/active_calls",
                                params={"page[number]": page, "page[size]": 250}).json()
            statuses += [client.get(f"/ovp/call_authorizations/{call['call_control_id']}").json()["data"]["status"]
                         for call in listed["data"]]
            if page >= listed["meta"]["total_pages"]:
                break
            page += 1
    return statuses.count("ringing"), statuses.count("active")


def _active_calls(origin: str, profile: str) -> int:
    with httpx.Client(base_url=origin, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as client:
        active: int = client.get(f"/ovp/outbound_voice_profiles/{profile}/usage").json()["data"]["active_calls"]
    return active


def _call_at(sipp: str, directory: Path, proxy: Kamailio, rate: int, seconds: int) -> tuple[int, int, int, list[float]]:
    """SIPp's calls at `rate` for `seconds`: (placed, answered, failed, set-up times in ms)."""
    run = directory / f"rate-{rate}"
    run.mkdir()
    calls = rate * seconds
    done = subprocess.run(
        [sipp, "-sf", str(CALLER), "-s", DESTINATION, "-au", USER_NAME, "-ap", PASSWORD, "-m", str(calls),
         "-r", str(rate), "-d", str(CALL_MS), "-i", HOST, "-p", str(free_udp_port()), "-mp", str(free_udp_port()),
         "-nostdin", "-default_behaviors", "all,-abortunexp", "-trace_logs", "-log_file", str(run / "calls.log"),
         "-trace_rtt", "-rtt_freq", "1",
         "-trace_stat", "-stf", str(run / "stat.csv"), "-trace_err",
         "-timeout", f"{seconds * 3 + 30}s", "-timeout_error",
         proxy.address],
        cwd=run, capture_output=True, text=True, timeout=seconds * 3 + 60, check=False,
    )
    lines = (run / "calls.log").read_text().splitlines() if (run / "calls.log").exists() else []
    answered = sum(line.startswith("answered ") for line in lines)
    with (run / "stat.csv").open() as stats:
        last = list(csv.DictReader(stats, delimiter=";"))[-1]
    failed = int(last["FailedCall(C)"]) + sum(line.startswith("refused ") for line in lines)
    setup_ms = [float(row[1]) for path in run.glob("*_rtt.csv")
                for row in csv.reader(path.open(), delimiter=";") if row and row[0][:1].isdigit()]
    if done.returncode not in (0, 1):
        print(done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr)
    return calls, answered, failed, setup_ms


def _waits(kamailio_log: str, already: int) -> tuple[list[float], int]:
    """The ovp waits logged since the first `already` ones, in ms; and how many there are now."""
    found = WAITED.findall(kamailio_log)
    return [int(microseconds) / 1000 for _call, microseconds in found[already:]], len(found)


def _components(ovp_group: int, database_url: str) -> Callable[[Task], str | None]:
    """Names each process of the load by what it is: ovp's (its process group), the PostgreSQL
    backends serving the bench's database, Kamailio's, SIPp's."""
    backend = serves_database(database_url)

    def classify(task: Task) -> str | None:
        if task.group == ovp_group:
            return "ovp"
        if backend(task):
            return "PostgreSQL"
        return {"kamailio": "Kamailio", "sipp": "SIPp"}.get(task.name)

    return classify


@contextmanager
def _database(backend: str, directory: Path, postgres_admin: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'ovp.db'}"
        return
    assert postgres_admin is not None
    with scratch_postgres_database(postgres_admin) as url:
        yield url


def run_backend(backend: str, rates: Sequence[int], seconds: int, postgres_admin: str | None,
                keep: Path | None = None, setup_timeout: int = 10,
                kamailio_workers: int | None = None, ovp_workers: int = 1) -> tuple[list[Step], tuple[int, int]]:
    """`keep`: a directory to leave every process's output and SIPp's traces in (else a temporary one).
    `kamailio_workers`: Kamailio's SIP workers (-A 'WORKERS=N'; else the configuration's default);
    `ovp_workers`: ovp's (`--workers`).
    Answers the steps, and the calls still holding a slot `setup_timeout` (and 2) seconds after the
    last (see _held)."""
    sipp, kamailio = installed("sipp"), installed("kamailio")
    if sipp is None or kamailio is None:
        raise SystemExit("Kamailio (with its modules) and SIPp are needed: `make install` installs them as root")
    steps: list[Step] = []
    with ExitStack() as stack:
        if keep is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="ovp-bench-switch-")))
        else:
            directory = keep / backend
            directory.mkdir(parents=True)
        url = stack.enter_context(_database(backend, directory, postgres_admin))
        ovp = stack.enter_context(running_server(url, ovp_workers, directory, extra=(
            "--rate-limit", "0", "--setup-timeout", str(setup_timeout))))
        profile, connection = _prepare(ovp.base_url)
        carrier_port = free_udp_port()
        carrier = Process.start([sipp, "-sf", str(CARRIER), "-i", HOST, "-p", str(carrier_port), "-mp",
                                 str(free_udp_port()), "-nostdin", "-trace_err"], directory / "carrier.log", directory)
        stack.callback(carrier.stop)
        port = free_udp_port()
        defines = ("OVP_LOG_WAITS=1", *([] if kamailio_workers is None else [f"WORKERS={kamailio_workers}"]))
        command = kamailio_command(kamailio, directory, port, ovp.base_url, TOKEN, f"sip:{HOST}:{carrier_port}",
                                   defines)
        proxy = Kamailio(port, Process.start(command, directory / "kamailio.log", directory))
        stack.callback(proxy.stop)
        if not proxy.wait_ready():
            raise SystemExit(f"Kamailio did not start:\n{proxy.log()[-3000:]}")
        logged = 0
        for rate in rates:
            # The cores over the rate's own seconds, not the stragglers' after them.
            run_queue = RunQueue(_components(ovp.pid, url), seconds)
            run_queue.start()
            calls, answered, failed, setup_ms = _call_at(sipp, directory, proxy, rate, seconds)
            cores = f"{shares_line(run_queue.stop(), seconds)}; the machine {run_queue.machine_busy:.0%} busy"
            waits, logged = _waits(proxy.log(), logged)
            step = Step(rate, calls, answered, failed, _active_calls(ovp.base_url, profile), waits, setup_ms, cores)
            steps.append(step)
            print(_row(backend, step), flush=True)
            if not step.sustained:
                break
        time.sleep(setup_timeout + 2)
        held = _held(ovp.base_url, connection)
    return steps, held


def _row(backend: str, step: Step) -> str:
    verdict = "sustained" if step.sustained else "NOT sustained"
    return (f"{backend:10} {step.rate:5d}/s {step.calls:6d} calls {step.answered:6d} answered {step.failed:4d} failed "
            f"{step.left_active:3d} left active | ovp wait p50 {percentile(step.ovp_wait_ms, 0.5):6.2f} ms "
            f"p99 {percentile(step.ovp_wait_ms, 0.99):6.2f} ms | set-up p50 {percentile(step.setup_ms, 0.5):6.2f} ms "
            f"p99 {percentile(step.setup_ms, 0.99):6.2f} ms | {verdict}\n{'':10} cores a second: {step.cores}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.switch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rates", default="50,100,150,200,250,300,400",
                        help="call rates to try in turn, per second (default: %(default)s)")
    parser.add_argument("--seconds", type=int, default=10, help="how long each rate runs (default: %(default)s)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="default: %(default)s")
    parser.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL"),
                        help="PostgreSQL admin URL; the bench makes a database of its own there (BENCH_POSTGRES_URL)")
    parser.add_argument("--keep", type=Path, help="leave the processes' output and SIPp's traces in this new directory")
    parser.add_argument("--setup-timeout", type=int, default=10,
                        help="ovp's --setup-timeout, and how long the bench waits after the last rate (default: "
                             "%(default)s)")
    parser.add_argument("--kamailio-workers", type=int,
                        help="Kamailio's SIP workers, -A 'WORKERS=N' (default: the configuration's own)")
    parser.add_argument("--ovp-workers", type=int, default=1, help="ovp's --workers (default: %(default)s)")
    options = parser.parse_args(argv)
    rates = [int(rate) for rate in options.rates.split(",")]
    print(f"Calls through Kamailio and ovp, each rate for {options.seconds} s; floor {FLOOR_CALLS_PER_S} calls/s")
    verdicts = []
    for backend in options.backends.split(","):
        if backend == "postgresql" and options.postgres is None:
            print("postgresql: skipped, no --postgres or BENCH_POSTGRES_URL")
            continue
        steps, held = run_backend(backend, rates, options.seconds, options.postgres, options.keep,
                                  options.setup_timeout, options.kamailio_workers, options.ovp_workers)
        best = max((step.rate for step in steps if step.sustained), default=0)
        at_floor = next((step for step in steps if step.rate == FLOOR_CALLS_PER_S), None)
        figures = "" if at_floor is None else (
            f"; at {FLOOR_CALLS_PER_S}/s ovp adds p50 {percentile(at_floor.ovp_wait_ms, 0.5):.2f} ms, "
            f"p99 {percentile(at_floor.ovp_wait_ms, 0.99):.2f} ms to each call's set-up")
        ringing, unended = held
        verdict = "PASS" if best >= FLOOR_CALLS_PER_S and ringing == 0 else "FAIL"
        verdicts.append(verdict)
        print(f"{backend}: sustained {best} calls/s ({best / FLOOR_CALLS_PER_S:.2f}x the floor) {verdict}{figures}; "
              f"{options.setup_timeout + 2} s after the last rate, {ringing} calls never answered still held a slot "
              f"(against 0), and {unended} answered calls whose end the switch lost")
    return 0 if verdicts and all(verdict == "PASS" for verdict in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
