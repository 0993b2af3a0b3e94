"""The admin listener (`ovp serve --admin-port`) against real servers: it lists every worker, its
/healthz fails while a worker's event loop is stopped and recovers with it, its /readyz follows the
database, its /metrics sums every worker's, and a worker that dies is started again."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.servers import HOST, PROFILES, OvpServer, child_processes, free_port, launch
from tests.e2e.test_database_trouble import RESUME_S
from tests.e2e.throwaway_postgres import ThrowawayPostgres

pytestmark = pytest.mark.e2e

WAIT_S = 10.0


def _workers(server: OvpServer) -> list[int]:
    """The server's worker processes (not multiprocessing's resource tracker)."""
    workers: list[int] = []
    for child in child_processes(server.pid):
        with contextlib.suppress(FileNotFoundError):
            if "spawn_main" in Path(f"/proc/{child}/cmdline").read_text():
                workers.append(child)
    return workers


def _until(admin: str, path: str, status: int) -> dict[str, Any]:
    """The admin listener's answer at `path` once it is `status` (within WAIT_S)."""
    deadline = time.monotonic() + WAIT_S
    while True:
        answer = httpx.get(f"{admin}{path}", timeout=5)
        if answer.status_code == status:
            body: dict[str, Any] = answer.json()
            return body
        assert time.monotonic() < deadline, f"{path} stayed {answer.status_code}: {answer.text}"
        time.sleep(0.1)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[OvpServer, str]]:
    port = free_port()
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open",
                    extra=("--workers", "2", "--admin-port", str(port)))
    yield server, f"http://{HOST}:{port}"
    server.stop()


def test_every_worker_is_listed_and_a_stopped_loop_fails_healthz_until_it_turns_again(
        two_workers: tuple[OvpServer, str]) -> None:
    server, admin = two_workers
    ready = _until(admin, "/readyz", 200)  # every worker has started
    assert ready["expected_workers"] == 2
    assert sorted(worker["pid"] for worker in ready["workers"]) == sorted(_workers(server))
    assert _until(admin, "/healthz", 200)["status"] == "ok"
    stopped = _workers(server)[0]
    os.kill(stopped, signal.SIGSTOP)
    try:
        stalled = _until(admin, "/healthz", 503)
        assert stalled["status"] == "stalled"
        # The stopped one; on a machine loaded enough, the other's turn may run late too.
        assert stopped in [worker["pid"] for worker in stalled["workers"] if worker["beat_age_ms"] > 2000]
        assert _until(admin, "/readyz", 503)["status"] == "unavailable"
    finally:
        os.kill(stopped, signal.SIGCONT)
    assert _until(admin, "/healthz", 200)["status"] == "ok"


def test_metrics_sum_every_worker_and_a_dead_worker_is_started_again(two_workers: tuple[OvpServer, str]) -> None:
    server, admin = two_workers
    for n in range(10):  # a new connection each, spread over both workers by the kernel
        with server.http("admin") as fresh:
            assert fresh.post(PROFILES, json={"name": f"counted {n}"}).status_code == 200
    text = httpx.get(f"{admin}/metrics", timeout=5).text
    created = [sample.value for family in text_string_to_metric_families(text) for sample in family.samples
               if sample.name == "ovp_http_requests_total" and sample.labels.get("route") == PROFILES]
    assert created == [10]
    killed = _workers(server)[0]
    os.kill(killed, signal.SIGKILL)
    deadline = time.monotonic() + WAIT_S
    while len(workers := _workers(server)) != 2 or killed in workers:
        assert time.monotonic() < deadline, f"workers now: {workers}"
        time.sleep(0.1)
    ready = _until(admin, "/readyz", 200)
    assert killed not in [worker["pid"] for worker in ready["workers"]]
    with server.http("admin") as client:
        assert client.get(PROFILES).json()["meta"]["total_results"] == 10


def test_readyz_follows_the_database_without_a_request(cluster: ThrowawayPostgres, tmp_path: Path) -> None:
    port = free_port()
    server = launch(tmp_path, cluster.url, auth="open", extra=("--admin-port", str(port)))
    admin = f"http://{HOST}:{port}"
    try:
        _until(admin, "/readyz", 200)
        cluster.stop()
        down = _until(admin, "/readyz", 503)
        assert down["cause"] == "unreachable"
        assert _until(admin, "/healthz", 200)["status"] == "ok"  # the worker itself turns
        cluster.start()
        deadline = time.monotonic() + RESUME_S
        while httpx.get(f"{admin}/readyz", timeout=5).status_code != 200:
            assert time.monotonic() < deadline, "not ready again after the database came back"
            time.sleep(0.2)
    finally:
        server.stop()
