"""Long work beside short requests: the latency of GETs of one profile while a 65,535-line rate deck
is imported, on one SQLite worker and one PostgreSQL worker. Floor: p99 under 20 ms on each
backend. The ceiling, measured in the same run on the same server: as many GETs with nothing else
under way. Not part of `make test` (the long-work test checks only that no GET is stalled).
`python -m bench.long_work` (`make bench-long-work`).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.databases import scratch_postgres_database
from tests.e2e.long_work import DECK_LINES, gets_alone, gets_beside_an_import

from bench.server import running_server

P99_FLOOR_MS = 20.0
TOKEN = "bench-long-work"


def _p99_ms(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100, method="inclusive")[98] * 1000


def measure(database_url: str, rounds: int) -> tuple[list[float], list[float]]:
    """p99s in ms of the GETs beside each import, and of as many GETs alone, `rounds` times."""
    beside, alone = [], []
    with tempfile.TemporaryDirectory(prefix="ovp-bench-long-work-") as workdir, \
            running_server(database_url.format(workdir=workdir), 1, Path(workdir)) as server:
        for round_number in range(rounds):
            latencies, imported = gets_beside_an_import(server.base_url, f"{TOKEN}-{round_number}")
            imported.raise_for_status()
            beside.append(_p99_ms(latencies))
            alone.append(_p99_ms(gets_alone(server.base_url, f"{TOKEN}-{round_number}", len(latencies))))
    return beside, alone


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.long_work", description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL",
                                                                 "postgresql://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--rounds", type=int, default=3, help="imports on each backend (%(default)s)")
    options = parser.parse_args(argv)
    passed = True
    with scratch_postgres_database(options.postgres_url) as postgres_url:
        for backend, url in (("SQLite", "sqlite:///{workdir}/ovp.db"), ("PostgreSQL", postgres_url)):
            beside, alone = measure(url, options.rounds)
            median = statistics.median(beside)
            verdict = median < P99_FLOOR_MS
            passed = passed and verdict
            print(f"{backend}: GET p99 during a {DECK_LINES:,}-line import, {options.rounds} imports: "
                  f"{', '.join(f'{p99:.1f}' for p99 in beside)} ms, median {median:.1f} ms "
                  f"(under {P99_FLOOR_MS:g} ms: {'PASS' if verdict else 'FAIL'}); ceiling, as many GETs alone: "
                  f"{', '.join(f'{p99:.1f}' for p99 in alone)} ms")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
