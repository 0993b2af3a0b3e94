"""nginx in front of a real ovp, with the configuration the docs ship (examples/nginx/ovp.conf),
its ports (and, for a test, its cap on connections) changed, for the limits ovp leaves to it."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.e2e.servers import HOST, free_port

NGINX = shutil.which("nginx") or next((path for path in ("/usr/sbin/nginx",) if Path(path).exists()), None)
SHIPPED = Path(__file__).parents[2] / "examples" / "nginx" / "nginx.conf"
START_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Proxy:
    port: int

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"


def configuration(workdir: Path, upstream_port: int, port: int, cap: int) -> str:
    """The shipped file, with its ports, its cap on connections and its files (here, in `workdir`)."""
    shipped = SHIPPED.read_text()
    temporary = "".join(f"    {kind}_temp_path {workdir / kind};\n"
                        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    for shipped_line, ours in (("server 127.0.0.1:8000;", f"server {HOST}:{upstream_port};"),
                               ("listen 80;", f"listen {HOST}:{port};"),
                               ("worker_connections 4096;", f"worker_connections {cap};"),
                               ("http {\n", f"http {{\n    access_log off;\n{temporary}")):
        assert shipped_line in shipped, f"{SHIPPED} no longer has {shipped_line!r}"
        shipped = shipped.replace(shipped_line, ours)
    return shipped


@contextmanager
def nginx_in_front(workdir: Path, upstream_port: int, *, cap: int = 4096) -> Iterator[Proxy]:
    """nginx (one process, in the foreground) on a free port, in front of ovp at `upstream_port`."""
    assert NGINX is not None
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "nginx.conf").write_text(configuration(workdir, upstream_port, port, cap))
    main = f"daemon off; master_process off; pid {workdir / 'nginx.pid'}; error_log {workdir / 'error.log'} warn;"
    process = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-g", main],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    proxy = Proxy(port)
    try:
        _wait_answering(proxy, process, workdir)
        yield proxy
    finally:
        process.terminate()  # SIGTERM: nginx's fast shutdown
        try:
            process.wait(timeout=START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_answering(proxy: Proxy, process: subprocess.Popen[bytes], workdir: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = (workdir / "error.log").read_text() if (workdir / "error.log").exists() else ""
            raise RuntimeError(f"nginx exited with status {process.returncode}: {log}")
        try:
            if httpx.get(f"{proxy.origin}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError("nginx did not answer in time")
