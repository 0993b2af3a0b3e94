"""The ceilings each run measures for itself: the HTTP ceiling (bench.bare on the same server)
and the database ceiling (pgbench's single-row UPDATE at the same number of connections).

These machines differ by two to three times from one day to the next; a figure means something
only beside a ceiling measured in the same run."""

from __future__ import annotations

import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from bench import wrk
from bench.client import Client
from bench.scenarios import Request, lua_script
from bench.server import HOST, ServerError, free_port, wait_answering

PGBENCH_TPS = re.compile(r"^tps = ([\d.]+)", re.MULTILINE)
SINGLE_ROW_UPDATE = "UPDATE ovp_bench_row SET n = n + 1 WHERE id = 1;\n"
PGBENCH_EXTRA_S = 30


# The bare app on Granian, configured as `ovp serve` configures it.
GRANIAN = (
    "from granian import Granian\n"
    "from ovp.config import Settings\n"
    "from ovp.server.run import granian_options\n"
    "options = granian_options(Settings(host='{host}', port={port}))\n"
    "options.update(factory=False, log_dictconfig=None)\n"
    "Granian('bench.bare:app', **options).serve()\n"
)


def bare_server_command(server: str, port: int) -> list[str]:
    """The bare app served by `server`: granian (as ovp is) or uvicorn (for the comparison)."""
    if server == "granian":
        return [sys.executable, "-c", GRANIAN.format(host=HOST, port=port)]
    return [sys.executable, "-m", "uvicorn", "bench.bare:app", "--host", HOST, "--port", str(port), "--loop", "uvloop",
            "--http", "httptools", "--no-access-log", "--no-server-header", "--no-proxy-headers", "--log-level",
            "warning"]


def http_ceiling(wrk_path: str, *, seconds: int, rounds: int, connections: int, threads: int,
                 server_name: str = "granian") -> float:
    """Requests/s of the bare ASGI app (median of `rounds`), with wrk as ovp's scenarios use it."""
    port = free_port()
    server = subprocess.Popen(
        bare_server_command(server_name, port),
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        with Client(HOST, port) as client:
            wait_answering("the bare ASGI app", server, client, Request("GET", "/", {}))
        with tempfile.TemporaryDirectory(prefix="ovp-bench-bare-") as tmp:
            script = Path(tmp) / "get.lua"
            script.write_text(lua_script(Request("GET", "/", {})))
            url = f"http://{HOST}:{port}/"
            wrk.run(wrk_path, url, script, seconds=1, connections=connections, threads=threads)  # warm-up
            rates = [wrk.parse(wrk.run(wrk_path, url, script, seconds=seconds, connections=connections,
                                       threads=threads)).requests_per_s for _ in range(rounds)]
        return statistics.median(rates)
    finally:
        os.killpg(server.pid, signal.SIGTERM)  # the server and its workers
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


def database_ceiling(database_url: str, *, seconds: int, rounds: int, connections: int) -> float:
    """Transactions/s of pgbench updating one single row from `connections` clients (median of
    `rounds`), in a table of its own in the run's database."""
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise ServerError("pgbench not found (Debian's postgresql-client has it)")
    libpq = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("CREATE TABLE IF NOT EXISTS ovp_bench_row (id integer PRIMARY KEY, n bigint NOT NULL)")
        connection.execute("INSERT INTO ovp_bench_row VALUES (1, 0) ON CONFLICT (id) DO NOTHING")
    with tempfile.TemporaryDirectory(prefix="ovp-bench-pgbench-") as tmp:
        script = Path(tmp) / "update.sql"
        script.write_text(SINGLE_ROW_UPDATE)
        rates = []
        for _ in range(rounds):
            done = subprocess.run(
                [pgbench, "-n", "-c", str(connections), "-j", "1", "-T", str(seconds), "-f", str(script), libpq],
                capture_output=True, text=True, timeout=seconds + PGBENCH_EXTRA_S, check=False,
            )
            found = PGBENCH_TPS.search(done.stdout)
            if done.returncode != 0 or found is None:
                raise ServerError(f"pgbench failed ({done.returncode}): {done.stderr.strip()} {done.stdout.strip()}")
            rates.append(float(found[1]))
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("DROP TABLE ovp_bench_row")
    return statistics.median(rates)
