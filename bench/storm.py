"""`python -m bench.storm`: a refusal storm, a switch retrying against a full profile, on each backend.

Each backend's server is measured twice in the same run, with wrk and the same number of
connections: first calls authorized and ended (ended ringing, as a switch ends a call that failed
to set up), then a storm of authorizations every one of which the profile refuses by D2 (its one
channel held by a call answered before the storm). A refusal is one request where a call is two,
so the floor asks for at least as many refusals a second as calls. Every refusal is on record: the
database must grow by no more than those records, which the run states in bytes per refusal, with
the growth of everything else beside it.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson
import psycopg
from sqlalchemy.engine import make_url
from tests.databases import scratch_postgres_database

from bench import wrk
from bench.client import Client
from bench.options import DEFAULT_POSTGRES_URL
from bench.scenarios import CALLER, CALLS, COLLECTION, Request, lua_script, lua_string, summed_counts_lua
from bench.seed import CALLS_PROFILE, seed_calls
from bench.server import RunningServer, running_server

TO = "+14155552671"
COUNTED = ("ovp-allowed", "ovp-refused", "ovp-other")


def _say(message: str) -> None:
    print(f"bench.storm: {message}", file=sys.stderr, flush=True)


def _counting_lua(request: Request, profile_id: str, *, end_each: bool) -> str:
    """Authorizations of calls through the profile to numbers that vary (+1 415 555 0000 to 9999,
    as the suite's calls scenario dials); with `end_each`, every allowed call ended (unanswered) by
    the next request. done() prints how many were allowed, refused by D2, and anything else."""
    return lua_script(request) + f"""
local calls = {lua_string(CALLS)}
local profile = {lua_string(profile_id)}
local ringing = {{}}
allowed = 0
refused = 0
other = 0

local sequence = 0

function request()
  local id = table.remove(ringing)
  if id then
    return wrk.format(nil, calls .. "/" .. id .. "/actions/end", nil, '{{"duration_secs":0}}')
  end
  sequence = sequence + 1
  local number = string.format("+1415555%04d", sequence % 10000)
  return wrk.format(nil, calls, nil, '{{"outbound_voice_profile_id":"' .. profile .. '","to":"' .. number
                    .. '","from":"{CALLER}"}}')
end

function response(status, headers, body)
  if body:find('"status":"ringing"', 1, true) then
    allowed = allowed + 1
    if {"true" if end_each else "false"} then table.insert(ringing, body:match('"id":"(%d+)"')) end
  elseif body:find('"code":"D2"', 1, true) then
    refused = refused + 1
  elseif not body:find('"status":"ended"', 1, true) then
    other = other + 1
  end
end

""" + summed_counts_lua(dict(zip(("allowed", "refused", "other"), COUNTED, strict=True)))


def _counts(output: str) -> tuple[int, int, int]:
    found = {}
    for line in output.splitlines():
        name, _, value = line.partition(": ")
        if name in COUNTED:
            found[name] = int(value)
    return found[COUNTED[0]], found[COUNTED[1]], found[COUNTED[2]]


@dataclass(frozen=True)
class Sizes:
    """Bytes of the database, and of the refusals' table with its index."""

    total: int
    refusals: int


def _sqlite_sizes(path: Path) -> Sizes:
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = dict(connection.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall())
        total = connection.execute("PRAGMA page_count").fetchone()[0] * connection.execute(
            "PRAGMA page_size").fetchone()[0]
    return Sizes(total, sum(size for name, size in pages.items() if "call_refusals" in name))


def _postgres_sizes(libpq: str) -> Sizes:
    with psycopg.connect(libpq, autocommit=True) as connection:
        row = connection.execute("SELECT pg_database_size(current_database()), "
                                 "pg_total_relation_size('call_refusals')").fetchone()
    assert row is not None
    return Sizes(int(row[0]), int(row[1]))


@dataclass(frozen=True)
class StormResult:
    backend: str
    calls_per_s: float
    refusals_per_s: float
    refusals: int
    other: int
    growth: int
    refusals_growth: int

    def lines(self) -> list[str]:
        per = self.growth / self.refusals if self.refusals else 0.0
        own = self.refusals_growth / self.refusals if self.refusals else 0.0
        ratio = self.refusals_per_s / self.calls_per_s if self.calls_per_s else 0.0
        verdict = "PASS" if ratio >= 1 and self.other == 0 else "FAIL"
        return [
            f"{self.backend}: calls authorized + ended {self.calls_per_s:,.0f}/s; refusals by D2 "
            f"{self.refusals_per_s:,.0f}/s ({self.refusals:,} in all, {self.other} other answers)",
            f"{self.backend}: the database grew {self.growth:,} bytes, {per:,.0f} a refusal; the refusals' table "
            f"and index {self.refusals_growth:,} ({own:,.0f} a refusal), everything else "
            f"{self.growth - self.refusals_growth:,}",
            f"floor: refusals a second / calls a second on {self.backend}: {ratio:.2f} (at least 1): {verdict}",
        ]


def _load(wrk_path: str, server: RunningServer, script: Path, seconds: int, connections: int) -> tuple[float, str]:
    output = wrk.run(wrk_path, server.base_url + CALLS, script, seconds=seconds, connections=connections,
                     threads=1)
    return wrk.parse(output).duration_s, output


def _storm(backend: str, url: str, sizes: Callable[[], Sizes], workdir: Path, wrk_path: str, seconds: int,
           connections: int) -> StormResult:
    token = f"storm-{secrets.token_hex(6)}"
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    with running_server(url, 1, workdir) as server, Client(server.host, server.port) as client:
        calls_profile = seed_calls(client, token)
        full = client.send(Request("POST", COLLECTION, auth, orjson.dumps(
            {**CALLS_PROFILE, "name": "full", "concurrent_call_limit": 1})))
        full_id = str(orjson.loads(full.body)["data"]["id"])

        def asking(profile_id: str) -> Request:
            return Request("POST", CALLS, auth, orjson.dumps(
                {"outbound_voice_profile_id": profile_id, "to": TO, "from": CALLER}))

        held = orjson.loads(client.send(asking(full_id)).body)["data"]
        client.send(Request("POST", f"{CALLS}/{held['id']}/actions/answer", auth, b"{}"))
        pairs_script, storm_script = workdir / "pairs.lua", workdir / "storm.lua"
        pairs_script.write_text(_counting_lua(asking(calls_profile), calls_profile, end_each=True))
        storm_script.write_text(_counting_lua(asking(full_id), full_id, end_each=False))
        _say(f"{backend}: calls authorized + ended for {seconds} s")
        duration, output = _load(wrk_path, server, pairs_script, seconds, connections)
        allowed, _refused, other = _counts(output)
        if other:
            raise SystemExit(f"{backend}: {other} answers to the calls were neither allowed nor ended")
        calls_per_s = allowed / duration
        before = sizes()
        _say(f"{backend}: a storm of refusals for {seconds} s")
        duration, output = _load(wrk_path, server, storm_script, seconds, connections)
        _allowed, refused, other = _counts(output)
        after = sizes()
    return StormResult(backend, calls_per_s, refused / duration, refused, other, after.total - before.total,
                       after.refusals - before.refusals)


@contextmanager
def _postgres(admin_url: str) -> Iterator[tuple[str, str]]:
    with scratch_postgres_database(admin_url) as url:
        yield url, make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.storm", description=__doc__)
    parser.add_argument("--seconds", type=int, default=60, help="seconds of each load (60)")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections (32)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql (both)")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    args = parser.parse_args()
    wrk_path = wrk.find_wrk("wrk")
    results = []
    with tempfile.TemporaryDirectory(prefix="ovp-storm-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        if "sqlite" in args.backends:
            database = workdir / "storm.db"
            results.append(_storm("SQLite", f"sqlite:///{database}", lambda: _sqlite_sizes(database), workdir,
                                  wrk_path, args.seconds, args.connections))
        if "postgresql" in args.backends:
            url, libpq = stack.enter_context(_postgres(args.postgres_url))
            results.append(_storm("PostgreSQL", url, lambda: _postgres_sizes(libpq), workdir, wrk_path,
                                  args.seconds, args.connections))
    lines = [line for result in results for line in result.lines()]
    print("\n".join(lines))
    return 1 if any("FAIL" in line for line in lines) else 0


if __name__ == "__main__":
    raise SystemExit(main())
