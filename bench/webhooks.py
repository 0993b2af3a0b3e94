"""`python -m bench.webhooks`: what call webhooks cost a switch, on each backend.

Each backend's server is measured in one run, with wrk and the same connections, on calls that are
authorized, answered and ended (as the suite's calls scenario makes them) through four connections
of one profile: one without a webhook URL, one whose events go to a local receiver that answers at
once, one whose receiver is dead (connection refused) and one whose receiver is hung (accepts, never
answers). Each kind with webhooks alternates with the kind without, round after round, so that each
ratio compares figures of the same minutes. After the live loads, every event must arrive (each
call's three, counted by their ids at the receiver). Then `--memory-seconds` of calls, half with the
dead receiver and half with the hung one, whose backlog only grows: the server's resident memory
(its processes and the sender's) is read every ten seconds and must stay flat. Each kind's line also
gives, for each process of the load, the time it ran and the time it waited for a core a second
(bench.run_queue): with the receiver live, whether ovp's worker lost time to the sender, the
receiver and the database's backends, which share the machine's cores with it. Floors: each
with-webhooks figure at least 0.8 of the without; memory at most MEMORY_GROWTH_KIB more at the end
of the window than at its start.

`--outage SECONDS` measures the backlog instead: calls at `--rate` a second while the receiver is
down (connection refused), then the receiver back; it reports how long the backlog took to drain,
the deliveries a second, and whether any event reached the receiver twice.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
from tests.databases import scratch_postgres_database

from bench import wrk
from bench.client import Client
from bench.cpu import group_cpu_seconds, resident_kib
from bench.options import DEFAULT_POSTGRES_URL
from bench.run_queue import RunQueue, Share, Task, serves_database, shares_line
from bench.scenarios import CALLS, Request, call_counts, call_pairs_lua
from bench.seed import seed_calls
from bench.server import RunningServer, running_server

KINDS = ("none", "live", "dead", "hung")
MEMORY_GROWTH_KIB = 16 * 1024  # "flat": what allocators and caches may settle into, not a backlog
MEMORY_SAMPLE_S = 10
BACKLOG = re.compile(r"^ovp_webhook_backlog (\S+)$", re.MULTILINE)


def _say(message: str) -> None:
    print(f"bench.webhooks: {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Receiver:
    port: int
    process: subprocess.Popen[bytes]
    count_file: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhooks"

    def stop(self) -> tuple[int, int]:
        """Stops it (by its PID); answers the requests it answered and the distinct events it saw."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        answered, distinct = self.count_file.read_text().split()
        return int(answered), int(distinct)


@contextmanager
def receiver(mode: str, workdir: Path, port: int | None = None) -> Iterator[Receiver]:
    port = port or _free_port()
    count_file = workdir / f"receiver-{mode}-{port}.txt"
    process = subprocess.Popen([sys.executable, "-m", "bench.receiver", str(port), mode, str(count_file)])
    started = Receiver(port, process, count_file)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    try:
        yield started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def _connection(client: Client, auth: dict[str, str], profile_id: str, name: str, url: str | None) -> str:
    body = {"connection_name": name, "user_name": f"bench{name}{secrets.token_hex(3)}", "password": "bench-pass-1",
            "outbound": {"outbound_voice_profile_id": profile_id}}
    if url is not None:
        body["webhook_event_url"] = url
    created = client.send(Request("POST", "/v2/credential_connections", auth, orjson.dumps(body)))
    if not created.ok:
        raise SystemExit(f"creating connection {name}: {created.status} {created.body[:300]!r}")
    return str(orjson.loads(created.body)["data"]["id"])


def _backlog(client: Client) -> float:
    found = BACKLOG.search(client.send(Request("GET", "/metrics", {}, b"")).body.decode())
    return float(found.group(1)) if found else -1.0


def _drained(client: Client, timeout_s: float) -> float | None:
    """Seconds until the backlog is empty; None if it was not within `timeout_s`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if _backlog(client) == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    return None


@dataclass(frozen=True)
class Load:
    per_s: float  # calls authorized (answered and ended) a second
    calls: int
    server_cpu_us: float  # CPU the server's processes (its worker and its sender) spent a call
    machine_busy: float  # the share of the machine's cores busy meanwhile (wrk and the receivers too)
    seconds: float
    cores: dict[str, Share]  # each process's time on a core and waiting for one (bench.run_queue)


def _loads(loads: list[Load]) -> str:
    """Each load's calls a second, then the medians of the three figures, then each process's cores
    over all the loads."""
    seconds = sum(load.seconds for load in loads)
    cores: dict[str, Share] = {}
    for load in loads:
        for component, share in load.cores.items():
            before = cores.get(component, Share(0.0, 0.0))
            cores[component] = Share(before.ran_s + share.ran_s, before.waited_s + share.waited_s)
    return (", ".join(f"{load.per_s:,.0f}" for load in loads)
            + f" (median {statistics.median(load.per_s for load in loads):,.0f}; the server's CPU "
            + f"{statistics.median(load.server_cpu_us for load in loads):,.0f} µs a call; the machine "
            + f"{statistics.median(load.machine_busy for load in loads):.0%} busy; cores a second: "
            + f"{shares_line(cores, seconds)})")


def _components(server_group: int, database_url: str) -> Callable[[Task], str | None]:
    """Names each process of a load: ovp's worker side (its process group but the sender), its
    webhook sender, the receivers, wrk, and the PostgreSQL backends serving the bench's database."""
    backend = serves_database(database_url)

    def classify(task: Task) -> str | None:
        if task.group == server_group:
            return "sender" if "ovp.processes.sender" in task.command else "ovp"
        if "bench.receiver" in task.command:
            return "receiver"
        if backend(task):
            return "PostgreSQL"
        return "wrk" if task.name == "wrk" else None

    return classify


@dataclass
class Figures:
    backend: str
    loads: dict[str, dict[str, list[Load]]]  # kind with webhooks -> {"none": [...], kind: [...]}, alternated
    live_events: tuple[int, int]  # answered, distinct
    drain_s: float | None
    memory_kib: list[int]  # every MEMORY_SAMPLE_S of the window, dead then hung

    def lines(self) -> list[str]:
        return self._ratio_lines() + self._live_lines() + self._memory_lines()

    def _ratio_lines(self) -> list[str]:
        out = []
        for kind, loads in self.loads.items():
            none, hooked = (statistics.median(load.per_s for load in loads[name]) for name in ("none", kind))
            ratio = hooked / none if none else 0.0
            out.append(f"{self.backend}: calls authorized + answered + ended a second, receiver {kind}: "
                       + _loads(loads[kind]) + "; without webhooks in the rounds between: " + _loads(loads["none"]))
            out.append(f"floor: {kind} / without on {self.backend}: {ratio:.2f} (at least 0.8): "
                       + ("PASS" if ratio >= 0.8 else "FAIL"))
        return out

    def _live_lines(self) -> list[str]:
        if "live" not in self.loads:  # no live receiver: no events to count
            return []
        calls = sum(load.calls for load in self.loads["live"]["live"])
        answered, distinct = self.live_events
        # wrk counts the calls whose answer came within its run; a connection's last call may be
        # answered after it, or left ringing.
        complete = 3 * calls - 3 * 64 <= distinct <= 3 * calls + 3 * 64
        return [f"{self.backend}: the live receiver got {distinct:,} distinct events ({answered:,} requests) for "
                f"{calls:,} calls; backlog drained {round(self.drain_s, 1) if self.drain_s is not None else 'NOT'}"
                f" s after the load: " + ("PASS" if complete and self.drain_s is not None else "FAIL")]

    def _memory_lines(self) -> list[str]:
        if not self.memory_kib:
            return []
        window_s = MEMORY_SAMPLE_S * (len(self.memory_kib) - 1)
        grew = self.memory_kib[-1] - self.memory_kib[0]
        return [f"{self.backend}: resident memory over {window_s} s of calls, dead then hung receiver (KiB, "
                f"every {MEMORY_SAMPLE_S} s): " + ", ".join(f"{kib:,}" for kib in self.memory_kib),
                f"floor: memory flat on {self.backend}: {grew:+,} KiB over {window_s} s (at most "
                f"{MEMORY_GROWTH_KIB:+,}): " + ("PASS" if grew <= MEMORY_GROWTH_KIB else "FAIL")]


def _load(wrk_path: str, server: RunningServer, script: Path, seconds: int, connections: int,
          database_url: str) -> Load:
    run_queue = RunQueue(_components(server.pid, database_url), seconds)
    cpu_before, started = group_cpu_seconds(server.pid), time.monotonic()
    run_queue.start()
    output = wrk.run(wrk_path, server.base_url + CALLS, script, seconds=seconds, connections=connections,
                     threads=1)
    cores = run_queue.stop()
    cpu, elapsed = group_cpu_seconds(server.pid) - cpu_before, time.monotonic() - started
    authorized, _rejected = call_counts(output)
    return Load(authorized / wrk.parse(output).duration_s, authorized, cpu / max(authorized, 1) * 1e6,
                run_queue.machine_busy, min(elapsed, seconds), cores)


def _measure(backend: str, url: str, workdir: Path, wrk_path: str, seconds: int, connections: int,
             rounds: int, memory_s: int, kinds: Sequence[str] = ("live", "dead", "hung")) -> Figures:
    token = f"hooks-{secrets.token_hex(6)}"
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with ExitStack() as stack:
        live = stack.enter_context(receiver("ok", workdir))
        hung = stack.enter_context(receiver("hung", workdir))
        server = stack.enter_context(running_server(url, 1, workdir))
        client = stack.enter_context(Client(server.host, server.port))
        profile_id = seed_calls(client, token)
        urls = {"none": None, "live": live.url, "dead": f"http://127.0.0.1:{_free_port()}/gone", "hung": hung.url}
        scripts = {}
        for kind in KINDS:
            connection_id = _connection(client, auth, profile_id, kind, urls[kind])
            scripts[kind] = workdir / f"{kind}.lua"
            scripts[kind].write_text(call_pairs_lua(Request("POST", CALLS, auth), connection_id, by="connection_id"))
        loads: dict[str, dict[str, list[Load]]] = {}
        drain, live_events = None, (0, 0)
        for kind in kinds:
            loads[kind] = {"none": [], kind: []}
            for number in range(rounds):
                for loaded in ("none", kind):
                    _say(f"{backend}: {kind} against without, round {number + 1}: {loaded}, {seconds} s")
                    loads[kind][loaded].append(_load(wrk_path, server, scripts[loaded], seconds, connections, url))
            if kind == "live":  # every live event delivered before the dead receiver's backlog starts
                drain = _drained(client, 120)
                live_events = live.stop()
        memory = _memory_window(wrk_path, server, (scripts["dead"], scripts["hung"]), memory_s, connections, backend,
                                 url)
    return Figures(backend, loads, live_events, drain, memory)


def _memory_window(wrk_path: str, server: RunningServer, scripts: tuple[Path, Path], memory_s: int,
                   connections: int, backend: str, database_url: str) -> list[int]:
    """The server's resident memory every MEMORY_SAMPLE_S while calls go on for `memory_s`, half
    through each script: read between loads of MEMORY_SAMPLE_S each."""
    if memory_s <= 0:
        return []
    samples = [resident_kib(server.pid)]
    loads = max(2, memory_s // MEMORY_SAMPLE_S)
    _say(f"{backend}: {loads * MEMORY_SAMPLE_S} s of calls, the receiver dead then hung, memory read every "
         f"{MEMORY_SAMPLE_S} s")
    for number in range(loads):
        _load(wrk_path, server, scripts[0] if number < loads // 2 else scripts[1], MEMORY_SAMPLE_S, connections,
              database_url)
        samples.append(resident_kib(server.pid))
    return samples


def _outage(backend: str, url: str, workdir: Path, rate: int, down_s: int) -> list[str]:
    """Calls at `rate` a second through a connection whose receiver is down for `down_s`, then up."""
    token = f"outage-{secrets.token_hex(6)}"
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    port = _free_port()
    with running_server(url, 1, workdir) as server, Client(server.host, server.port) as client:
        profile_id = seed_calls(client, token)
        connection_id = _connection(client, auth, profile_id, "outage", f"http://127.0.0.1:{port}/webhooks")
        _say(f"{backend}: {rate} calls a second for {down_s} s, the receiver down")
        calls = 0
        started = time.monotonic()
        while time.monotonic() - started < down_s:
            due = started + calls / rate
            time.sleep(max(0.0, due - time.monotonic()))
            allowed = orjson.loads(client.send(Request("POST", CALLS, auth, orjson.dumps(
                {"connection_id": connection_id, "to": "+14155552671", "from": "+12025550100"}))).body)["data"]
            client.send(Request("POST", f"{CALLS}/{allowed['id']}/actions/answer", auth, b"{}"))
            client.send(Request("POST", f"{CALLS}/{allowed['id']}/actions/end", auth, b'{"duration_secs":30}'))
            calls += 1
        waiting = _backlog(client)
        _say(f"{backend}: {calls:,} calls, {waiting:,.0f} events waiting; the receiver is back")
        with receiver("ok", workdir, port) as back:
            drain = _drained(client, 600)
            time.sleep(2.0)
            answered, distinct = back.stop()
    events = 3 * calls
    rate_s = f"{events / drain:,.0f} deliveries/s" if drain else "not drained"
    verdict = "PASS" if drain is not None and drain <= 120 and distinct == events and answered == events else "FAIL"
    return [f"{backend}: receiver down {down_s} s under {rate} calls/s: {events:,} events; drained "
            f"{drain if drain is None else round(drain, 1)} s after its return ({rate_s}); {distinct:,} distinct "
            f"events received in {answered:,} requests",
            f"floor: the backlog drained within 120 s, every event once, on {backend}: {verdict}"]


@contextmanager
def _backends(names: str, postgres_url: str, workdir: Path) -> Iterator[list[tuple[str, str]]]:
    with ExitStack() as stack:
        found = []
        if "sqlite" in names:
            found.append(("SQLite", f"sqlite:///{workdir / 'hooks.db'}"))
        if "postgresql" in names:
            found.append(("PostgreSQL", stack.enter_context(scratch_postgres_database(postgres_url))))
        yield found


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.webhooks", description=__doc__)
    parser.add_argument("--seconds", type=int, default=20, help="seconds of each load (20)")
    parser.add_argument("--rounds", type=int, default=2, help="loads without and with the live receiver (2)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--kinds", default="live,dead,hung", help="receivers to measure against none (all three)")
    parser.add_argument("--memory-seconds", type=int, default=300,
                        help="seconds of calls with the dead, then the hung receiver, memory watched (300; 0: none)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql (both)")
    parser.add_argument("--outage", type=int, default=0, help="seconds the receiver is down; 0: the loads instead")
    parser.add_argument("--rate", type=int, default=50, help="calls a second during the outage (50)")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    args = parser.parse_args()
    if unknown := set(args.kinds.split(",")) - set(KINDS[1:]):
        parser.error(f"--kinds: {', '.join(sorted(unknown))} is not one of live, dead, hung")
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ovp-hooks-") as tmp:
        workdir = Path(tmp)
        with _backends(args.backends, args.postgres_url, workdir) as backends:
            for backend, url in backends:
                if args.outage:
                    lines += _outage(backend, url, workdir, args.rate, args.outage)
                else:
                    lines += _measure(backend, url, workdir, wrk.find_wrk("wrk"), args.seconds, args.connections,
                                      args.rounds, args.memory_seconds, args.kinds.split(",")).lines()
    print("\n".join(lines))
    return 1 if any("FAIL" in line for line in lines) else 0


if __name__ == "__main__":
    raise SystemExit(main())
