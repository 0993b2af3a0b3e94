"""Probes under a flood: what `/healthz` and `/readyz` answer in while `wrk` holds 1,000 busy
connections to one worker (SQLite, GET one profile), and how much the worker's memory grows.
Two probers take turns: one on a keep-alive connection, one opening a new connection for every
probe (as many health checkers do), which must also be accepted while the flood runs. Floors:
probe p99 under 100 ms, each way; memory growth under 64 MiB. Not part of `make test` (the
operating test checks only that no probe is starved).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx
from tests.e2e.flood import flood

from bench.server import running_server

PROBE_P99_FLOOR_MS = 100.0
GROWTH_FLOOR_MIB = 64.0
TOKEN = "bench-flood"


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


def measure(connections: int, seconds: int) -> tuple[list[float], list[float], float]:
    """Probe latencies in ms (on a kept connection, on new ones), and the server's memory growth
    in MiB, over one flood."""
    with tempfile.TemporaryDirectory(prefix="ovp-bench-flood-") as workdir:
        directory = Path(workdir)
        with running_server(f"sqlite:///{directory / 'ovp.db'}", 1, directory) as server:
            origin = server.base_url
            headers = {"Authorization": f"Bearer {TOKEN}"}
            profile = httpx.post(f"{origin}/v2/outbound_voice_profiles", json={"name": "flood"},
                                 headers=headers).json()["data"]["id"]
            before = peak = _rss_kib(server.pid)
            kept: list[float] = []
            new: list[float] = []
            url = f"{origin}/v2/outbound_voice_profiles/{profile}"
            with httpx.Client(base_url=origin, timeout=30) as keep_alive, \
                    flood(directory, url, token=TOKEN, connections=connections, seconds=seconds) as running:
                keep_alive.get("/healthz").raise_for_status()  # its connection is open before the flood
                time.sleep(1)  # every connection of the flood is open
                while running.poll() is None:
                    for path in ("/healthz", "/readyz"):
                        kept.append(_timed_ms(keep_alive.get, path))
                        new.append(_timed_ms(httpx.get, f"{origin}{path}"))
                    peak = max(peak, _rss_kib(server.pid))
                    time.sleep(0.02)
    return kept, new, (peak - before) / 1024


def _timed_ms(get: Callable[[str], httpx.Response], url: str) -> float:
    began = time.monotonic()
    get(url).raise_for_status()
    return (time.monotonic() - began) * 1000


def _summary(name: str, latencies: list[float]) -> tuple[str, bool]:
    p99 = statistics.quantiles(latencies, n=100, method="inclusive")[98]
    passed = p99 < PROBE_P99_FLOOR_MS
    verdict = "PASS" if passed else "FAIL"
    return (f"{len(latencies)} probes {name}: p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, "
            f"max {max(latencies):.1f} ms (p99 under {PROBE_P99_FLOOR_MS:g} ms: {verdict})"), passed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.flood", description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=1000, help="default: %(default)s")
    parser.add_argument("--seconds", type=int, default=20, help="default: %(default)s")
    options = parser.parse_args(argv)
    kept, new, growth = measure(options.connections, options.seconds)
    print(f"under {options.connections} connections of wrk for {options.seconds} s:")
    verdicts = []
    for name, latencies in (("on a kept connection", kept), ("on new connections", new)):
        line, passed = _summary(name, latencies)
        print(line)
        verdicts.append(passed)
    memory_passed = growth < GROWTH_FLOOR_MIB
    print(f"memory grew {growth:.1f} MiB (under {GROWTH_FLOOR_MIB:g} MiB: {'PASS' if memory_passed else 'FAIL'})")
    return 0 if all(verdicts) and memory_passed else 1


if __name__ == "__main__":
    sys.exit(main())
