"""Command-line flags, parsed into one frozen value so every module sees the same settings."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass

from bench.scenarios import SCENARIO_KEYS


@dataclass(frozen=True)
class Options:
    duration: int
    rounds: int
    warmup: int
    connections: int
    threads: int
    workers: int
    database_url: str | None
    scenarios: tuple[str, ...]
    profiles: int
    check_floor: bool
    wrk: str
    suite: bool
    postgres_url: str
    server: str = "granian"  # what serves ovp: granian, as `ovp serve` does, or uvicorn to compare


DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SERVERS = ("granian", "uvicorn")


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative")
    return value


def _scenarios(text: str) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    unknown = [key for key in chosen if key not in SCENARIO_KEYS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"choose from {', '.join(SCENARIO_KEYS)} (comma-separated)")
    return chosen


def parse(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Start an ovp server, load it with wrk, print a Markdown table and write "
        "bench/results/latest.json.",
    )
    parser.add_argument("--duration", type=_positive, default=10, help="measured seconds per scenario (10)")
    parser.add_argument(
        "--rounds",
        type=_positive,
        default=3,
        help="measured runs per scenario; the table shows the median run by requests/s (3)",
    )
    parser.add_argument("--warmup", type=_non_negative, default=2, help="unmeasured seconds first (2)")
    parser.add_argument("--connections", type=_positive, default=32, help="wrk connections (32)")
    parser.add_argument("--threads", type=_positive, default=1, help="wrk threads (1)")
    parser.add_argument("--workers", type=_positive, default=1, help="ovp serve --workers (1)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="database for the server, e.g. postgresql://user@host/db (default: SQLite in a temporary dir)",
    )
    parser.add_argument(
        "--scenarios",
        type=_scenarios,
        default=SCENARIO_KEYS,
        help=f"comma-separated subset of {','.join(SCENARIO_KEYS)} (all)",
    )
    parser.add_argument("--profiles", type=_positive, default=100, help="profiles to create before measuring (100)")
    parser.add_argument(
        "--check-floor", action="store_true", help="exit non-zero when a scenario run misses its floor"
    )
    parser.add_argument("--wrk", default="wrk", help="the wrk executable (wrk on PATH)")
    parser.add_argument(
        "--suite", action="store_true",
        help="measure the ceilings, then SQLite and PostgreSQL with 1 and 2 workers, in one run, and state "
        "every figure as a ratio (what make bench runs)",
    )
    parser.add_argument(
        "--postgres-url", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
        help=f"with --suite: the PostgreSQL server to measure on (BENCH_POSTGRES_URL; {DEFAULT_POSTGRES_URL})",
    )
    parser.add_argument(
        "--server", choices=SERVERS, default="granian",
        help="what serves ovp: granian (as `ovp serve` does; the default) or uvicorn (its public options), to compare",
    )
    args = parser.parse_args(argv)
    if args.threads > args.connections:
        parser.error("--threads cannot exceed --connections (wrk needs a connection per thread)")
    return Options(
        duration=args.duration,
        rounds=args.rounds,
        warmup=args.warmup,
        connections=args.connections,
        threads=args.threads,
        workers=args.workers,
        database_url=args.database_url,
        scenarios=tuple(args.scenarios),
        profiles=args.profiles,
        check_floor=args.check_floor,
        wrk=args.wrk,
        suite=args.suite,
        postgres_url=args.postgres_url,
        server=args.server,
    )
