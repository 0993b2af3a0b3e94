"""`python -m bench.export`: the CSV export of a million call records, on each backend, with the
server's memory watched while it streams.

The records are written straight into the database (half allowed calls, half refusals, one
account's): a million requests would take longer than the export measured. The export is read as
a client reads it, over HTTP, as fast as it comes; the server's resident memory (every process of
it) is sampled every 20 ms, and the floor is its growth over what it held before the export.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg
from sqlalchemy.engine import make_url
from tests.databases import scratch_postgres_database

from bench.cpu import resident_kib
from bench.options import DEFAULT_POSTGRES_URL
from bench.server import running_server
from ovp.domain.keys import open_mode_account

CALLS = "/ovp/call_authorizations"
FLOOR_MIB = 50
# The ids are time-ordered as ovp's are: the millisecond in the high bits.
_ALLOWED = (
    "INSERT INTO call_authorizations (account_id, id, profile_id, connection_id, dialled, caller, country, prefix, "
    "per_minute, billing_increment, reserved_micros, recording, authorized_ms, expires_ms, max_duration_secs, "
    "answered_ms, ended_ms, duration_secs, billed_secs, cost_micros) "
    "SELECT '{account}', (1700000000000 + n) * 4194304, 7, 9, '+14155552671', '+12025550100', 'US', '1415', "
    "'0.0050', '60/60', 5000, '{{\"record\":false}}', 1700000000000 + n, 1700000000000 + n + 60000, 14400, "
    "1700000000000 + n + 5000, 1700000000000 + n + 65000, 60, 60, 5000 FROM {series} WHERE n % 2 = 0"
)
_REFUSED = (
    "INSERT INTO call_refusals (account_id, id, profile_id, connection_id, billing_group_id, dialled, caller, "
    "country, sip_status, code, reason, decided_ms) "
    "SELECT '{account}', (1700000000000 + n) * 4194304, 7, 9, NULL, '+14155552671', '+12025550100', 'US', 403, 'D2', "
    "'OB profile channel limit exceeded', 1700000000000 + n FROM {series} WHERE n % 2 = 1"
)
_SQLITE_SERIES = ("(WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n + 1 < {count}) "
                  "SELECT n FROM s)")
_POSTGRES_SERIES = "generate_series(0, {count} - 1) AS n"


def _say(message: str) -> None:
    print(f"bench.export: {message}", file=sys.stderr, flush=True)


class PeakMemory:
    """The most resident memory a process and its children held while it ran."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self.peak_kib = resident_kib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak_kib = max(self.peak_kib, resident_kib(self._pid))

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _export(backend: str, url: str, fill: Callable[[str], None], workdir: Path, count: int) -> bool:
    token = f"export-{secrets.token_hex(6)}"
    with running_server(url, 1, workdir) as server:
        _say(f"{backend}: writing {count:,} records")
        fill(open_mode_account(token))  # the account open mode makes of the token
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=120) as client:
            # A first page, so that what the server holds at rest is what a served server holds.
            total = client.get(CALLS, params={"page[size]": 250}).json()["meta"]["total_results"]
            before = resident_kib(server.pid)
            started, rows, size = time.monotonic(), 0, 0
            with PeakMemory(server.pid) as memory, client.stream("GET", CALLS,
                                                                 headers={"Accept": "text/csv"}) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    rows += 1
                    size += len(line) + 2
            seconds = time.monotonic() - started
    growth_mib = (memory.peak_kib - before) / 1024
    ok = total == count and rows == total + 1 and growth_mib < FLOOR_MIB
    print(f"{backend}: {rows - 1:,} records of {total:,} exported in {seconds:.1f} s ({(rows - 1) / seconds:,.0f}/s, "
          f"{size / 2**20:,.0f} MiB of CSV); the server held {before / 1024:.1f} MiB before, at most "
          f"{memory.peak_kib / 1024:.1f} MiB while it streamed")
    print(f"floor: memory growth while exporting on {backend}: {growth_mib:.1f} MiB (less than {FLOOR_MIB}): "
          f"{'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__)
    parser.add_argument("--records", type=int, default=1_000_000, help="records to export (1,000,000)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="sqlite,postgresql (both)")
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    args = parser.parse_args()
    count, results = args.records, []
    with tempfile.TemporaryDirectory(prefix="ovp-export-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        if "sqlite" in args.backends:
            database = workdir / "export.db"

            def fill_sqlite(account: str) -> None:
                series = _SQLITE_SERIES.format(count=count)
                with sqlite3.connect(database) as connection:
                    for statement in (_ALLOWED, _REFUSED):
                        connection.execute(statement.format(account=account, series=series))

            results.append(_export("SQLite", f"sqlite:///{database}", fill_sqlite, workdir, count))
        if "postgresql" in args.backends:
            url = stack.enter_context(scratch_postgres_database(args.postgres_url))
            libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

            def fill_postgres(account: str) -> None:
                series = _POSTGRES_SERIES.format(count=count)
                with psycopg.connect(libpq, autocommit=True) as connection:
                    for statement in (_ALLOWED, _REFUSED):
                        connection.execute(statement.format(account=account, series=series).encode())
                    connection.execute("VACUUM ANALYZE")

            results.append(_export("PostgreSQL", url, fill_postgres, workdir, count))
    return 0 if all(results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
