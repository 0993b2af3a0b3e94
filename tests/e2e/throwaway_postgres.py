"""A PostgreSQL cluster of the test's own, in a temporary directory on a free port, which the test
may stop and start at will without touching the machine's shared server."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from tests.e2e.servers import HOST, free_port

START_TIMEOUT = 30.0


def postgres_binaries() -> Path | None:
    """The newest installed server's bin directory (Debian keeps them under /usr/lib/postgresql)."""
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda path: int(path.parts[-3]))
    return versions[-1].parent if versions else None


@dataclass
class ThrowawayPostgres:
    binaries: Path
    directory: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        # PostgreSQL refuses to run as root; run its tools as the `postgres` user when we are root.
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *command], capture_output=True, text=True, timeout=START_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{command[0]} failed ({done.returncode}): {done.stderr.strip()}")

    def initialise(self) -> None:
        self.directory.parent.chmod(0o711)  # the `postgres` user passes through, and sees nothing else
        self.directory.mkdir(mode=0o700)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(str(self.binaries / "initdb"), "-D", str(self.directory / "data"), "--auth=trust",
                  "--username=postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses={HOST} -c fsync=off"
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.directory / "data"), "-o", options,
                  "-l", str(self.directory / "log"), "-w", "-t", str(int(START_TIMEOUT)), "start")
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with psycopg.connect(self.url, connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        self._run(str(self.binaries / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")

    def is_running(self) -> bool:
        return (self.directory / "data" / "postmaster.pid").exists()


def throwaway_postgres(parent: Path, binaries: Path) -> ThrowawayPostgres:
    cluster = ThrowawayPostgres(binaries=binaries, directory=parent / "cluster", port=free_port())
    cluster.initialise()
    cluster.start()
    return cluster
