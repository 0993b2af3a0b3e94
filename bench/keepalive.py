"""`python -m bench.keepalive`: what a client that keeps idle connections as long as ovp's
`--idle-timeout` meets (docs/operating.md, "Limits and timeouts").

For each idle timeout given, an `ovp serve` on an SQLite file of its own, and CLIENTS httpx clients
of one connection each, with httpx's default keep-alive (5 s). Each client, ROUNDS times: a GET, a
pause of IDLE_LOW_S to IDLE_HIGH_S (around httpx's 5 s), then a POST on the same connection. It
reports, for each idle timeout, the POSTs that failed without an answer: a connection reused just as
the server closes it is reset. Busy cores widen that moment, so run it beside a load (the suite, or a
few CPU-bound processes) to see it."""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
from collections import Counter
from pathlib import Path

import httpx

from bench.server import running_server

CLIENTS = 40
ROUNDS = 8
IDLE_LOW_S, IDLE_HIGH_S = 4.90, 5.02
PROFILES = "/v2/outbound_voice_profiles"


async def _outcomes(origin: str) -> Counter[str]:
    """How each POST ended: "answered", or the name of the error it failed with."""
    outcomes: Counter[str] = Counter()
    rng = random.Random(0)  # the same pauses for every idle timeout; not a secret

    async def client_rounds(client: httpx.AsyncClient, pauses: list[float]) -> None:
        for pause in pauses:
            await client.get(PROFILES)
            await asyncio.sleep(pause)
            try:
                await client.post(PROFILES, json={"name": "kept alive"})
            except httpx.TransportError as error:
                outcomes[type(error).__name__] += 1
            else:
                outcomes["answered"] += 1

    clients = [httpx.AsyncClient(base_url=origin, headers={"Authorization": "Bearer keepalive"}, timeout=30.0,
                                 limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
               for _ in range(CLIENTS)]
    try:
        pauses = [[rng.uniform(IDLE_LOW_S, IDLE_HIGH_S) for _ in range(ROUNDS)] for _ in clients]
        await asyncio.gather(*(client_rounds(client, each) for client, each in zip(clients, pauses, strict=True)))
    finally:
        for client in clients:
            await client.aclose()
    return outcomes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.keepalive", description=__doc__.splitlines()[0])
    parser.add_argument("--idle-timeouts", default="5,10",
                        help="ovp's --idle-timeout values to try, comma-separated (default: %(default)s)")
    options = parser.parse_args(argv)
    for idle_timeout in options.idle_timeouts.split(","):
        with tempfile.TemporaryDirectory(prefix="ovp-keepalive-") as directory, running_server(
                f"sqlite:///{Path(directory) / 'ovp.db'}", 1, Path(directory),
                ("--idle-timeout", idle_timeout)) as server:
            outcomes = asyncio.run(_outcomes(f"http://{server.host}:{server.port}"))
        failed = sum(count for name, count in outcomes.items() if name != "answered")
        details = ", ".join(f"{name} {count}" for name, count in sorted(outcomes.items()) if name != "answered")
        print(f"--idle-timeout {idle_timeout}: {failed} of {CLIENTS * ROUNDS} POSTs failed without an answer"
              + (f" ({details})" if details else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
