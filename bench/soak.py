"""`make soak` (`python -m bench.soak`): minutes of mixed load on a real `ovp serve`, with faults
every minute, on SQLite and then on PostgreSQL. Not part of `make test`: it takes 20 minutes.

The load: creates and PATCHes of profiles, credential connections attached to them, and calls
authorized and ended. Every minute has the same faults, spread over it: the database paused for
5 s (PostgreSQL behind a TCP proxy of the run's own, frozen with SIGSTOP; SQLite locked by another
process), and, on PostgreSQL, every ovp backend terminated. Minutes alike can be compared: the
floor is each minute's requests a second within 10% of the first minute's (FLOOR_SPREAD). Each
minute prints its requests/s, p99, the server's memory, and the CPU a request cost the server (its
workers included) and the soak's own client, their ratio, and the CPU a fixed piece of work takes
(bench.cpu.fixed_work_cpu_us, the median of the minute's samples): a minute where the server's,
the client's and the fixed work's costs rise alike, their ratio flat, is the machine slowing down,
not ovp. Beside the floor, the end prints each minute's requests a second scaled by the CPU the
client spent on a request in it against the first minute's (the same work each minute, so a gauge
of the machine's speed, though not a clean one: docs/performance.md, "The soak on PostgreSQL").
The end checks every acknowledged write is there, the call counters are exact, and the memory grew
less than 10% from the first minute to the last.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.engine import make_url
from tests.databases import scratch_postgres_database
from tests.e2e.servers import OvpServer, free_port, launch
from tests.e2e.tcp_proxy import TcpProxy, start_proxy

from bench.cpu import fixed_work_cpu_us, resident_kib, tree_cpu_seconds
from bench.options import DEFAULT_POSTGRES_URL

PROFILES = "/v2/outbound_voice_profiles"
CONNECTIONS = "/v2/credential_connections"
CALLS = "/ovp/call_authorizations"
TOKEN = "soak"
WRITERS = 16
PAUSE_S = 5.0
MEMORY_GROWTH = 0.10
UNKNOWN = "may or may not"
FLOOR_SPREAD = 0.10
FIXED_WORK_EVERY_S = 10.0


@dataclass
class Minute:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # the latencies of each kind of request
    fixed_us: list[float] = field(default_factory=list)  # the fixed work's CPU time, sampled over the minute


def _kind(method: str, path: str) -> str:
    """A request's kind, its path's ids left out: "PATCH /v2/outbound_voice_profiles/{id}"."""
    parts = ["{id}" if part.isdigit() else part for part in path.split("/")]
    return f"{method} {'/'.join(parts)}"


@dataclass
class Ledger:
    """What was acknowledged, and what may or may not have been applied."""

    created: set[str] = field(default_factory=set)
    unknown_created: set[str] = field(default_factory=set)
    patches: dict[str, list[tuple[str, int, str]]] = field(default_factory=dict)  # id -> (name, status, detail)
    open_calls: dict[str, str] = field(default_factory=dict)  # call id -> profile id, allowed and not ended
    unknown_calls: int = 0
    # By profile and the UTC day its calls ended on: a day's spend is booked on that day's row, and
    # a soak that runs over midnight reads the new day's.
    spent_micros: dict[tuple[str, str], int] = field(default_factory=dict)
    minutes: list[Minute] = field(default_factory=list)


def _micros(cost: str) -> int:
    whole, _, fraction = cost.partition(".")
    return int(whole) * 1_000_000 + int((fraction + "000000")[:6])


class Load:
    def __init__(self, server: OvpServer, ledger: Ledger, call_profiles: list[str]) -> None:
        self.server, self.ledger, self.call_profiles = server, ledger, call_profiles

    async def _timed(self, client: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        began = time.monotonic()
        try:
            response = await client.request(method, path, **kwargs)
        except httpx.HTTPError:
            self.ledger.minutes[-1].errors += 1
            return None
        minute = self.ledger.minutes[-1]
        minute.latencies.append(time.monotonic() - began)
        minute.by_kind.setdefault(_kind(method, path), []).append(time.monotonic() - began)
        if response.status_code >= 500:
            minute.errors += 1
        return response

    async def writer(self, n: int, until: float) -> None:
        rng = random.Random(n)
        async with httpx.AsyncClient(base_url=self.server.origin, timeout=30.0,
                                     headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            own = (await client.post(PROFILES, json={"name": f"writer {n}"})).json()["data"]["id"]
            self.ledger.patches[own] = [(f"writer {n}", 200, "")]
            sequence, call = 0, None
            while time.monotonic() < until:
                sequence += 1
                kind = rng.random()
                if kind < 0.15:
                    name = f"created {n} {sequence}"
                    answer = await self._timed(client, "POST", PROFILES, json={"name": name})
                    if answer is not None and answer.status_code == 200:
                        self.ledger.created.add(name)
                    elif answer is None or UNKNOWN in answer.text:
                        self.ledger.unknown_created.add(name)
                elif kind < 0.35:
                    name = f"patched {n} {sequence}"
                    answer = await self._timed(client, "PATCH", f"{PROFILES}/{own}", json={"name": name})
                    status = answer.status_code if answer is not None else 0
                    self.ledger.patches[own].append((name, status, answer.text if answer is not None else UNKNOWN))
                elif kind < 0.45:
                    await self._timed(client, "POST", CONNECTIONS, json={
                        "connection_name": f"soak {n} {sequence}", "user_name": f"soak{n}x{sequence}",
                        "password": "soak-password-1", "outbound": {"outbound_voice_profile_id": own}})
                elif call is None:
                    profile = rng.choice(self.call_profiles)
                    answer = await self._timed(client, "POST", CALLS, json={
                        "outbound_voice_profile_id": profile, "to": "+14155552671", "from": f"+1202555{n:04d}"})
                    if answer is not None and answer.status_code == 200:
                        call = answer.json()["data"]["id"]
                        self.ledger.open_calls[call] = profile
                    elif answer is None or UNKNOWN in answer.text:
                        self.ledger.unknown_calls += 1
                else:
                    # The switch confirms the answer, then ends the call (a call never answered costs nothing).
                    await self._timed(client, "POST", f"{CALLS}/{call}/actions/answer")
                    answer = await self._timed(client, "POST", f"{CALLS}/{call}/actions/end",
                                               json={"duration_secs": rng.randint(0, 300)})
                    if answer is not None and answer.status_code == 200:
                        profile = self.ledger.open_calls.pop(call)
                        ended = answer.json()["data"]
                        day = (profile, ended["ended_at"][:10])
                        self.ledger.spent_micros[day] = self.ledger.spent_micros.get(day, 0) + _micros(ended["cost"])
                        call = None
                if answer is not None and answer.status_code == 503:
                    await asyncio.sleep(0.05)


class IndexReads:
    """PostgreSQL's own account of where each minute's reads went (pg_stat_user_indexes): for the
    indexes that returned the most entries in the minute, how many entries each scan returned. A
    figure that climbs minute after minute is a statement whose cost grows with what the load
    stored, which requests/s alone cannot tell apart from the machine slowing down. And what the
    database did besides answering, each minute: the WAL it wrote and the share of it that was
    whole pages (pg_stat_wal: a page's first change after a checkpoint logs all of it), the
    checkpoints it began, and the vacuums and analyses of the soak's tables."""

    def __init__(self, libpq: str) -> None:
        self._libpq = libpq
        self._last = self._read()
        self._work_before = self._work()

    def _work(self) -> tuple[int, int, int, int, int]:
        """WAL bytes, full-page images, checkpoints, vacuums and analyses so far."""
        with psycopg.connect(self._libpq, autocommit=True) as connection:
            row = connection.execute(
                "SELECT (SELECT wal_bytes FROM pg_stat_wal), (SELECT wal_fpi FROM pg_stat_wal), "
                "(SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter), "
                "(SELECT sum(vacuum_count + autovacuum_count) FROM pg_stat_user_tables), "
                "(SELECT sum(analyze_count + autoanalyze_count) FROM pg_stat_user_tables)").fetchone()
        assert row is not None
        wal, full_pages, checkpoints, vacuums, analyses = (int(value or 0) for value in row)
        return wal, full_pages, checkpoints, vacuums, analyses

    def database_work(self) -> str:
        now = self._work()
        wal, full_pages, checkpoints, vacuums, analyses = (
            after - before for after, before in zip(now, self._work_before, strict=True))
        self._work_before = now
        return (f"WAL {wal / 2**20:,.0f} MiB, {full_pages:,} full pages, {checkpoints} checkpoints begun, "
                f"{vacuums} vacuums, {analyses} analyses")

    def _read(self) -> dict[str, tuple[int, int]]:
        with psycopg.connect(self._libpq, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT indexrelname, idx_scan, idx_tup_read FROM pg_stat_user_indexes").fetchall()
        return {name: (int(scans or 0), int(read or 0)) for name, scans, read in rows}

    def minute(self) -> str:
        now = self._read()
        moved = {name: (scans - self._last.get(name, (0, 0))[0], read - self._last.get(name, (0, 0))[1])
                 for name, (scans, read) in now.items()}
        self._last = now
        top = sorted(moved.items(), key=lambda item: item[1][1], reverse=True)[:3]
        return "  ".join(f"{name} {read / scans:,.1f}/scan" for name, (scans, read) in top if scans)


async def _machine_speed(ledger: Ledger, until: float) -> None:
    """The fixed work's CPU time every few seconds, into the minute under way (its median is
    printed): a figure that moves with the machine's speed and not with ovp's."""
    while time.monotonic() < until:
        ledger.minutes[-1].fixed_us.append(fixed_work_cpu_us())
        await asyncio.sleep(FIXED_WORK_EVERY_S)


async def _soak(server: OvpServer, minutes: int, faults: list[Callable[[], Awaitable[None]]],
                index_reads: IndexReads | None = None) -> Ledger:
    ledger = Ledger(minutes=[Minute()])
    async with httpx.AsyncClient(base_url=server.origin, timeout=30.0,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        await client.put("/ovp/rates", content="prefix,rate\n1,0.01\n", headers={"Content-Type": "text/csv"})
        call_profiles = [(await client.post(PROFILES, json={"name": f"calls {n}", "concurrent_call_limit": 10_000})
                          ).json()["data"]["id"] for n in range(3)]
    load = Load(server, ledger, call_profiles)
    until = time.monotonic() + minutes * 60
    writers = [asyncio.ensure_future(load.writer(n, until)) for n in range(WRITERS)]
    writers.append(asyncio.ensure_future(_machine_speed(ledger, until)))
    memory: list[int] = []
    client_us: list[float] = []  # the client's CPU a request, each minute: the machine's speed
    print(f"faults every minute, in turn: {', '.join(fault.__name__ for fault in faults)}")
    print(f"{'minute':>6} {'requests/s':>10} {'p99 ms':>8} {'5xx':>6} {'RSS MiB':>8} {'server µs':>9} "
          f"{'client µs':>9} {'server/client':>13} {'fixed µs':>8}"
          + ("  index entries read per scan (the 3 that read the most); the database's own work"
             if index_reads else ""))
    server_cpu, client_cpu = tree_cpu_seconds(server.pid), time.process_time()
    for minute in range(1, minutes + 1):
        started = time.monotonic()
        for n, fault in enumerate(faults, start=1):  # evenly spread, the same seconds of every minute
            await asyncio.sleep(max(0.0, started + n * 60 / (len(faults) + 1) - time.monotonic()))
            await fault()
        await asyncio.sleep(max(0.0, started + 60 - time.monotonic()))
        current, ledger.minutes = ledger.minutes[-1], [*ledger.minutes, Minute()]
        memory.append(resident_kib(server.pid))
        p99 = statistics.quantiles(current.latencies, n=100)[98] * 1000 if len(current.latencies) > 1 else 0.0
        requests = max(len(current.latencies), 1)
        server_used, client_used = tree_cpu_seconds(server.pid) - server_cpu, time.process_time() - client_cpu
        server_cpu, client_cpu = server_cpu + server_used, client_cpu + client_used
        client_us.append(client_used / requests * 1e6)
        print(f"{minute:>6} {len(current.latencies) / 60:>10,.0f} {p99:>8.1f} {current.errors:>6} "
              f"{memory[-1] / 1024:>8.1f} {server_used / requests * 1e6:>9,.0f} {client_us[-1]:>9,.0f}"
              f" {server_used / max(client_used, 1e-9):>13.2f} {statistics.median(current.fixed_us or [0.0]):>8,.0f}"
              + (f"  {index_reads.minute()}; {index_reads.database_work()}" if index_reads else ""), flush=True)
    await asyncio.gather(*writers)
    ledger.minutes = ledger.minutes[:-1]
    _kinds_table(ledger.minutes)
    _spread(ledger.minutes, client_us)
    _check(server, ledger, call_profiles, memory)
    return ledger


def _kinds_table(minutes: list[Minute]) -> None:
    """Each kind of request's mean latency in the first and the last minute: which one grew."""
    if len(minutes) < 2:
        return
    first, last = minutes[0].by_kind, minutes[-1].by_kind
    print(f"\n{'request':<48} {'first minute ms':>15} {'last minute ms':>15}")
    for kind in sorted(set(first) | set(last)):
        shown = [f"{statistics.fmean(times) * 1000:>15.2f}" if times else f"{'-':>15}"
                 for times in (first.get(kind, []), last.get(kind, []))]
        print(f"{kind:<48} {shown[0]} {shown[1]}")


def _spread(minutes: list[Minute], client_us: list[float]) -> None:
    """Each minute's requests a second against the first minute's: the floor (a figure, not a check
    of correctness: the soak passes or fails on what it finds stored); and, beside it, each minute's
    requests scaled by the client's CPU a request against the first minute's."""
    if len(minutes) < 2:
        return
    counted = [len(minute.latencies) for minute in minutes]
    scaled = [count * cost / client_us[0] for count, cost in zip(counted, client_us, strict=True)]
    print(f"\nrequests/s scaled by the client's CPU a request against the first minute's: "
          f"{', '.join(f'{count / 60:,.0f}' for count in scaled)} "
          f"({min(scaled[1:]) / scaled[0]:.2f} to {max(scaled[1:]) / scaled[0]:.2f} of the first)")
    ratios = [count / max(counted[0], 1) for count in counted[1:]]
    met = all(abs(ratio - 1) <= FLOOR_SPREAD for ratio in ratios)
    print(f"floor: every minute within {FLOOR_SPREAD:.0%} of the first: {'PASS' if met else 'FAIL'} "
          f"(against the first: {min(ratios):.3f} to {max(ratios):.3f})")


def _check(server: OvpServer, ledger: Ledger, call_profiles: list[str], memory: list[int]) -> None:
    with httpx.Client(base_url=server.origin, timeout=30.0, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
        names: set[str] = set()
        page = 1
        while True:
            body = client.get(PROFILES, params={"page[size]": 250, "page[number]": page}).json()
            names |= {profile["name"] for profile in body["data"]}
            if page >= body["meta"]["total_pages"]:
                break
            page += 1
        lost = ledger.created - names
        ghosts = {name for name in names if name.startswith("created ")} - ledger.created - ledger.unknown_created
        for profile_id, patches in ledger.patches.items():
            last = max(index for index, (_name, status, _text) in enumerate(patches) if status == 200)
            allowed = {patches[last][0]} | {name for name, status, text in patches[last + 1:]
                                             if status != 200 and (status == 0 or UNKNOWN in text)}
            stored = client.get(f"{PROFILES}/{profile_id}").json()["data"]["name"]
            if stored not in allowed:
                lost.add(f"PATCH of {profile_id}: {stored!r} is not the last acknowledged write or an unknown one")
        counters_off = []
        for profile_id in call_profiles:
            usage = client.get(f"/ovp/outbound_voice_profiles/{profile_id}/usage").json()["data"]
            open_calls = sum(1 for profile in ledger.open_calls.values() if profile == profile_id)
            if not open_calls <= usage["active_calls"] <= open_calls + ledger.unknown_calls:
                counters_off.append(f"{profile_id}: {usage['active_calls']} active, {open_calls} expected")
            acknowledged = ledger.spent_micros.get((profile_id, usage["day"]), 0)
            if _micros(usage["spent"]) < acknowledged:
                counters_off.append(f"{profile_id}: spent {usage['spent']} on {usage['day']} < acknowledged "
                                    f"{acknowledged / 1_000_000:.6f}")
    growth = (memory[-1] - memory[0]) / memory[0] if len(memory) > 1 else 0.0
    print(f"\nacknowledged writes lost: {len(lost)}; profiles no create made: {len(ghosts)}; "
          f"counters off: {len(counters_off)}; memory growth from the first minute: {growth:.1%}")
    for problem in [*sorted(lost)[:10], *sorted(ghosts)[:10], *counters_off]:
        print(f"  {problem}")
    ok = not lost and not ghosts and not counters_off and growth < MEMORY_GROWTH
    print("check: PASS" if ok else "check: FAIL")
    if not ok:
        raise SystemExit(1)


def _sqlite(minutes: int, workdir: Path) -> None:
    database = workdir / "soak.db"
    server = launch(workdir, f"sqlite:///{database}", auth="open", extra=("--no-access-log",))

    async def lock_for_5_s() -> None:
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        await asyncio.sleep(PAUSE_S)
        holder.execute("ROLLBACK")
        holder.close()

    try:
        print("\n== SQLite, 1 worker")
        asyncio.run(_soak(server, minutes, [lock_for_5_s]))
    finally:
        server.stop()


def _postgres(minutes: int, workdir: Path, admin_url: str) -> None:
    with scratch_postgres_database(admin_url) as url:
        target = make_url(url)
        proxy: TcpProxy = start_proxy(free_port(), target.host or "127.0.0.1", target.port or 5432)
        libpq = target.set(drivername="postgresql").render_as_string(hide_password=False)
        server = launch(workdir, target.set(port=proxy.port).render_as_string(hide_password=False), auth="open",
                        extra=("--workers", "2", "--no-access-log"))

        async def pause_for_5_s() -> None:
            proxy.freeze()
            await asyncio.sleep(PAUSE_S)
            proxy.thaw()

        async def terminate_backends() -> None:
            with psycopg.connect(libpq, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s "
                              "AND application_name = 'ovp'", (str(target.database),))

        try:
            print("\n== PostgreSQL, 2 workers")
            asyncio.run(_soak(server, minutes, [pause_for_5_s, terminate_backends], IndexReads(libpq)))
        finally:
            server.stop()
            proxy.stop()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=int, default=10, help="minutes per backend (10)")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql (both)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="ovp-soak-") as tmp:
        if "sqlite" in args.backends:
            _sqlite(args.minutes, Path(tmp))
        if "postgresql" in args.backends:
            _postgres(args.minutes, Path(tmp), args.postgres_url)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
