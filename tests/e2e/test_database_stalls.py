"""A database that stops answering for 10 s under write load never freezes the server.

PostgreSQL is frozen through a TCP proxy of the test's own, paused with SIGSTOP as a frozen host or
network would be; SQLite is locked by another process. Meanwhile `/healthz` keeps answering at once,
every write gets its answer within the deadline plus one second, writes succeed again within 2 s
of the database coming back, and no acknowledged write is lost.
"""

from __future__ import annotations

import asyncio
import sqlite3
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.databases import SKIPPED_REASON, postgres_admin_url
from tests.e2e.load import async_client
from tests.e2e.servers import PROFILES, OvpServer, free_port, launch
from tests.e2e.tcp_proxy import start_proxy

pytestmark = [pytest.mark.e2e, pytest.mark.alone]

DB_TIMEOUT_S = 2.0
WRITERS = 8
FROZEN_S = 10.0
BEFORE_S = 1.0
AFTER_S = 4.0
HEALTH_EVERY_S = 0.02
HEALTH_P99_S = 0.050
RESUMED_WITHIN_S = 2.0
PAUSE_AFTER_503_S = 0.02  # a writer that got a 503 waits this long, as a client honouring it would


@dataclass(frozen=True)
class Write:
    profile_id: str
    name: str
    began: float
    ended: float
    status: int


class Stall:
    """What a test does to the database: stop it answering, and let it answer again."""

    def __init__(self, freeze: Callable[[], object], thaw: Callable[[], object]) -> None:
        self.freeze = freeze
        self.thaw = thaw


def _health_latencies(origin: str, stop: threading.Event) -> list[float]:
    latencies: list[float] = []
    with httpx.Client(base_url=origin, timeout=30.0) as client:
        while not stop.is_set():
            began = time.monotonic()
            response = client.get("/healthz")
            latencies.append(time.monotonic() - began)
            assert response.status_code == 200
            time.sleep(HEALTH_EVERY_S)
    return latencies


async def _write_load(server: OvpServer, token: str, stall: Stall) -> tuple[list[Write], float]:
    """Each writer PATCHes a profile of its own, one PATCH after another, until the end; the
    database stops answering after BEFORE_S and answers again FROZEN_S later. Answers the writes
    and when the database came back."""
    async with async_client(server.origin, token, WRITERS) as client:
        profile_ids = []
        for n in range(WRITERS):
            created = await client.post(PROFILES, json={"name": f"writer {n}"})
            assert created.status_code == 200, created.text
            profile_ids.append(created.json()["data"]["id"])
        writes: list[Write] = []
        started = time.monotonic()
        end = started + BEFORE_S + FROZEN_S + AFTER_S

        async def writer(profile_id: str) -> None:
            sequence = 0
            while time.monotonic() < end:
                sequence += 1
                name = f"{profile_id} {sequence}"
                began = time.monotonic()
                response = await client.patch(f"{PROFILES}/{profile_id}", json={"name": name})
                writes.append(Write(profile_id, name, began, time.monotonic(), response.status_code))
                assert response.status_code in (200, 503), response.text
                if response.status_code == 503:
                    assert "Traceback" not in response.text
                    await asyncio.sleep(PAUSE_AFTER_503_S)

        async def stalling() -> float:
            await asyncio.sleep(BEFORE_S)
            await asyncio.to_thread(stall.freeze)
            await asyncio.sleep(FROZEN_S)
            await asyncio.to_thread(stall.thaw)
            return time.monotonic()

        thawed = asyncio.ensure_future(stalling())
        await asyncio.gather(thawed, *(writer(profile_id) for profile_id in profile_ids))
        return writes, thawed.result()


def _check_stall(server: OvpServer, token: str, stall: Stall) -> None:
    stop = threading.Event()
    latencies: list[float] = []
    prober = threading.Thread(target=lambda: latencies.extend(_health_latencies(server.origin, stop)))
    prober.start()
    try:
        writes, thawed = asyncio.run(_write_load(server, token, stall))
    finally:
        stop.set()
        prober.join(timeout=30)

    p99 = statistics.quantiles(latencies, n=100)[98]
    assert p99 < HEALTH_P99_S, f"/healthz p99 {p99 * 1000:.1f} ms over {len(latencies)} probes"
    slowest = max(write.ended - write.began for write in writes)
    assert slowest <= DB_TIMEOUT_S + 1.0, f"a write waited {slowest:.2f} s for its answer"
    assert any(write.status == 503 for write in writes), "the stall was not noticed"
    resumed = [write.ended for write in writes if write.status == 200 and write.began >= thawed]
    assert resumed, "no write succeeded after the database came back"
    assert min(resumed) - thawed <= RESUMED_WITHIN_S

    with server.http(token) as client:
        for profile_id in {write.profile_id for write in writes}:
            mine = [write for write in writes if write.profile_id == profile_id]
            acknowledged = [index for index, write in enumerate(mine) if write.status == 200]
            allowed = {mine[acknowledged[-1]].name} | {write.name for write in mine[acknowledged[-1] + 1:]}
            stored = client.get(f"{PROFILES}/{profile_id}").json()["data"]["name"]
            assert stored in allowed, f"{profile_id}: {stored!r} is not the last acknowledged write or a later one"


@pytest.fixture
def this_runs_postgres(request: pytest.FixtureRequest) -> str:
    """This run's PostgreSQL database; the test is skipped, saying why, without one."""
    if postgres_admin_url() is None:
        pytest.skip(SKIPPED_REASON)
    url: str = request.getfixturevalue("postgres_url")
    return url


def test_a_frozen_postgresql_never_freezes_the_server(tmp_path: Path, this_runs_postgres: str) -> None:
    target = make_url(this_runs_postgres)
    proxy = start_proxy(free_port(), target.host or "127.0.0.1", target.port or 5432)
    server = None
    try:
        through_proxy = target.set(port=proxy.port).render_as_string(hide_password=False)
        server = launch(tmp_path, through_proxy, auth="open", extra=("--db-timeout", str(DB_TIMEOUT_S)))
        _check_stall(server, "frozen-postgres", Stall(proxy.freeze, proxy.thaw))
        assert "database unavailable: timeout" in server.log()
        assert "database available again" in server.log()
        assert server.log().count("database unavailable") <= 3, "the outage was logged per request"
    finally:
        if server is not None:
            server.stop()
        proxy.stop()


def test_an_sqlite_file_locked_by_another_process_never_freezes_the_server(tmp_path: Path) -> None:
    database = tmp_path / "locked.db"
    server = launch(tmp_path, f"sqlite:///{database}", auth="open", extra=("--db-timeout", str(DB_TIMEOUT_S)))
    holder = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    try:
        _check_stall(server, "locked-sqlite", Stall(lambda: holder.execute("BEGIN IMMEDIATE"),
                                                     lambda: holder.execute("ROLLBACK")))
        assert "database unavailable: locked" in server.log()
        assert "database available again" in server.log()
    finally:
        holder.close()
        server.stop()
