"""Probes under a flood: what the admin listener's `/healthz` and `/readyz` (`--admin-port`)
answer in while `wrk` holds 1,000 busy connections to one worker's API port (SQLite, GET one
profile), and how much the server's memory grows. Probes go two ways, as health checkers send them:
on a kept connection, and on a new connection each (connect, send, read to the end). Floors: probe
p99 under 100 ms, each way; memory growth under 64 MiB. The same probes on the flooded API port are
shown beside them, with no floor: they wait behind the flood's requests. Not part of `make test`
(the operating test checks only that no probe is starved).

The ceiling, measured in the same run: the same new-connection probes sent, turn about, to the
admin listener of a second ovp at rest. wrk and the flooded worker take both cores of a small
machine, and what the prober itself then waits for a core is in every figure; the difference is
what the flood costs.
"""

from __future__ import annotations

import argparse
import functools
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.e2e.flood import flood

from bench.cpu import resident_kib
from bench.server import running_server

PROBE_P99_FLOOR_MS = 100.0
GROWTH_FLOOR_MIB = 64.0
TOKEN = "bench-flood"


@dataclass
class Probes:
    """Latencies in ms, by how the probe went."""

    kept: list[float] = field(default_factory=list)
    new: list[float] = field(default_factory=list)
    at_rest: list[float] = field(default_factory=list)  # new connections to a server with no load
    api_port: list[float] = field(default_factory=list)  # new connections to the flooded API port


def measure(connections: int, seconds: int) -> tuple[Probes, float]:
    """Probe latencies over one flood, and the flooded server's memory growth in MiB."""
    with tempfile.TemporaryDirectory(prefix="ovp-bench-flood-") as workdir:
        directory = Path(workdir)
        flooded_dir, rest_dir = directory / "flooded", directory / "at-rest"
        flooded_dir.mkdir()
        rest_dir.mkdir()
        with running_server(f"sqlite:///{flooded_dir / 'ovp.db'}", 1, flooded_dir, admin=True) as server, \
                running_server(f"sqlite:///{rest_dir / 'ovp.db'}", 1, rest_dir, admin=True) as at_rest:
            origin = server.base_url
            headers = {"Authorization": f"Bearer {TOKEN}"}
            profile = httpx.post(f"{origin}/v2/outbound_voice_profiles", json={"name": "flood"},
                                 headers=headers).json()["data"]["id"]
            before = peak = resident_kib(server.pid)
            probes = Probes()
            url = f"{origin}/v2/outbound_voice_profiles/{profile}"
            with httpx.Client(base_url=f"http://{server.host}:{server.admin_port}", timeout=30) as keep_alive, \
                    flood(directory, url, token=TOKEN, connections=connections, seconds=seconds) as running:
                keep_alive.get("/healthz").raise_for_status()  # its connection is open before the flood
                time.sleep(1)  # every connection of the flood is open
                # The flooded API port's probes wait behind the flood: on a thread of their own, so
                # that they hold up none of the others.
                api_port = threading.Thread(target=_probe_while, args=(running, server.host, server.port,
                                                                        probes.api_port), daemon=True)
                api_port.start()
                while running.poll() is None:
                    for path in ("/healthz", "/readyz"):
                        probes.kept.append(_timed_ms(keep_alive.get, path))
                        probes.new.append(_timed_ms(functools.partial(_probe_once, server.host, server.admin_port),
                                                    path))
                        probes.at_rest.append(_timed_ms(functools.partial(_probe_once, at_rest.host,
                                                                          at_rest.admin_port), path))
                    peak = max(peak, resident_kib(server.pid))
                    time.sleep(0.02)
                api_port.join()
    return probes, (peak - before) / 1024


def _probe_while(running: subprocess.Popen[bytes], host: str, port: int, latencies: list[float]) -> None:
    while running.poll() is None:
        latencies.append(_timed_ms(functools.partial(_probe_once, host, port), "/healthz"))


def _probe_once(host: str, port: int | None, path: str) -> httpx.Response:
    """A probe on a connection of its own, as a health checker sends it: connect, ask, read the
    answer to the end (the server closes the connection after it)."""
    assert port is not None
    with socket.create_connection((host, port), timeout=30) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0].split(b" ")
    return httpx.Response(int(status_line[1]) if len(status_line) > 1 else 502, request=httpx.Request("GET", path))


def _timed_ms(probe: Callable[[str], httpx.Response], path: str) -> float:
    """How long `probe` took to get a 2xx for `path`."""
    began = time.monotonic()
    probe(path).raise_for_status()
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
    probes, growth = measure(options.connections, options.seconds)
    print(f"under {options.connections} connections of wrk for {options.seconds} s:")
    verdicts = []
    for name, latencies in (("on a kept connection", probes.kept), ("on new connections", probes.new)):
        line, passed = _summary(name, latencies)
        print(line)
        verdicts.append(passed)
    at_rest = probes.at_rest
    at_rest_p99 = statistics.quantiles(at_rest, n=100, method="inclusive")[98]
    print(f"ceiling, same run: {len(at_rest)} probes on new connections to a server at rest: "
          f"p50 {statistics.median(at_rest):.1f} ms, p99 {at_rest_p99:.1f} ms")
    api = probes.api_port
    print(f"for comparison, no floor: {len(api)} probes on new connections to the flooded API port, one after "
          f"another: p50 {statistics.median(api):.1f} ms, max {max(api):.1f} ms")
    memory_passed = growth < GROWTH_FLOOR_MIB
    print(f"memory grew {growth:.1f} MiB (under {GROWTH_FLOOR_MIB:g} MiB: {'PASS' if memory_passed else 'FAIL'})")
    return 0 if all(verdicts) and memory_passed else 1


if __name__ == "__main__":
    sys.exit(main())
