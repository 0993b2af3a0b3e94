"""ovp's image run by podman for the image's tests: containers and volumes of the test's own, named
by it and removed by those names at teardown, with ports published on loopback only.

`make test-image` builds the image and names it in OVP_TEST_IMAGE; without it the tests are skipped.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import telnyx

from tests.e2e.servers import HOST, free_port

IMAGE_VARIABLE = "OVP_TEST_IMAGE"
# These machines' facts: podman's default runtime (crun) refuses their cgroups, and runc cannot give
# a container the host's limits unless they are stated; both flags are harmless elsewhere.
PODMAN = ("podman", "--runtime", "runc")
LIMITS = ("--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024")
# The image's ports (EXPOSE in the Containerfile).
API_PORT, ADMIN_PORT = 8000, 9000
COMMAND_TIMEOUT_S = 60.0
READY_TIMEOUT_S = 60.0


def podman(*arguments: str, timeout: float = COMMAND_TIMEOUT_S, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*PODMAN, *arguments], capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"podman {' '.join(arguments)}: status {result.returncode}\n{result.stderr}")
    return result


@dataclass(frozen=True)
class Container:
    """A container of the image, serving on `origin` (and its admin listener on `admin`)."""

    name: str
    origin: str
    admin: str

    def client(self, api_key: str) -> telnyx.Telnyx:
        """The official SDK as a user configures it: only the base URL changed."""
        return telnyx.Telnyx(api_key=api_key, base_url=f"{self.origin}/v2", max_retries=0, timeout=10.0)

    def exec(self, *command: str) -> str:
        """`command` run in the container, as the image's user; its stdout."""
        return podman("exec", self.name, *command).stdout

    def inspect(self, template: str) -> str:
        return podman("inspect", "--format", template, self.name).stdout.strip()

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def wait_ready(self) -> None:
        """Until /healthz answers 200 on the API port and the admin listener's; fails the test with the
        container's log if it stops first or takes longer than READY_TIMEOUT_S."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        waiting = [f"{self.origin}/healthz", f"{self.admin}/healthz"]
        last = "no attempt yet"
        while waiting and time.monotonic() < deadline:
            if self.inspect("{{.State.Running}}") != "true":
                pytest.fail(f"{self.name} stopped ({self.inspect('{{.State.ExitCode}}')}):\n{self.logs()}")
            try:
                response = httpx.get(waiting[0], timeout=1.0)
            except httpx.TransportError as error:
                last = f"{waiting[0]}: {error!r}"
            else:
                if response.status_code == 200:
                    waiting.pop(0)
                    continue
                last = f"{waiting[0]}: HTTP {response.status_code}: {response.text}"
            time.sleep(0.2)
        if waiting:
            pytest.fail(f"{self.name} was not ready within {READY_TIMEOUT_S} s (last: {last}):\n{self.logs()}")


class Podman:
    """Starts the image's containers and makes volumes, each named for this test only."""

    def __init__(self, image: str) -> None:
        self.image = image
        self.containers: list[str] = []
        self.volumes: list[str] = []
        self._prefix = f"ovp-test-{secrets.token_hex(4)}"

    def volume(self) -> str:
        name = f"{self._prefix}-{len(self.volumes)}"
        podman("volume", "create", name)
        self.volumes.append(name)
        return name

    def run(self, *, volume: str | None = None, env: Mapping[str, str] | None = None,
            host_network: bool = False) -> Container:
        """A container serving on `volume`'s data (None: an anonymous volume), ready. With
        `host_network` it listens on the host's loopback itself (to reach the host's PostgreSQL
        there); otherwise its ports are published there."""
        name = f"{self._prefix}-c{len(self.containers)}"
        api = free_port()
        admin = next(port for port in iter(free_port, None) if port != api)
        if host_network:
            network = ["--network", "host", "--env", f"OVP_HOST={HOST}", "--env", f"OVP_PORT={api}",
                       "--env", f"OVP_ADMIN_PORT={admin}"]
        else:
            network = ["--publish", f"{HOST}:{api}:{API_PORT}", "--publish", f"{HOST}:{admin}:{ADMIN_PORT}"]
        data = ["--volume", f"{volume}:/data"] if volume else []
        variables = [option for key, value in (env or {}).items() for option in ("--env", f"{key}={value}")]
        self.containers.append(name)
        podman("run", "--detach", "--name", name, *LIMITS, *network, *data, *variables, self.image)
        container = Container(name, f"http://{HOST}:{api}", f"http://{HOST}:{admin}")
        container.wait_ready()
        return container

    def remove(self) -> None:
        for name in self.containers:
            podman("rm", "--force", "--volumes", "--time", "0", "--ignore", name, check=False)
        for name in self.volumes:
            podman("volume", "rm", "--force", name, check=False)


@contextmanager
def image_under_test() -> Iterator[Podman]:
    image = os.environ.get(IMAGE_VARIABLE)
    if not image:
        pytest.skip(f"{IMAGE_VARIABLE} is not set: make test-image builds ovp's image and runs these tests")
    runner = Podman(image)
    try:
        yield runner
    finally:
        runner.remove()
