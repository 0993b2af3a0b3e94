"""A flood of keep-alive connections from wrk, for the operating test and `python -m bench.flood`."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WRK = shutil.which("wrk")


@contextmanager
def flood(workdir: Path, url: str, *, token: str, connections: int = 1000,
          seconds: int = 6) -> Iterator[subprocess.Popen[bytes]]:
    """Runs `wrk` with `connections` connections for `seconds` against `url` (GET, with a bearer
    token); yields its process, and on the way out checks it ran (or stops it, on an error)."""
    if WRK is None:
        raise RuntimeError("wrk is not installed (make install installs it when it runs as root)")
    script = workdir / "flood.lua"
    script.write_text(f'wrk.headers["Authorization"] = "Bearer {token}"\n')
    process = subprocess.Popen([WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "-s", str(script), url],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        yield process
    except BaseException:
        process.kill()
        process.wait()
        raise
    output = process.communicate(timeout=seconds + 30)[0].decode()
    if "Requests/sec" not in output:
        raise RuntimeError(f"wrk did not run:\n{output}")
