"""When the database goes away, requests get a prompt 503 and /readyz says so; when it comes
back, service resumes by itself. The PostgreSQL here is a throwaway cluster of the test's own."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.e2e.load import async_client
from tests.e2e.servers import PROFILES, OvpServer, launch
from tests.e2e.throwaway_postgres import ThrowawayPostgres

pytestmark = pytest.mark.e2e

# Connect, statement and pool timeouts are each at most 5 s; a 503 must come well within this.
PROMPT_S = 12.0
RESUME_S = 20.0


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[[str], OvpServer]]:
    """Starts open-mode servers on a database URL the test chooses; stops each by its PID."""
    servers: list[OvpServer] = []

    def start(url: str) -> OvpServer:
        servers.append(launch(tmp_path, url, auth="open"))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def timed(client: httpx.Client, method: str, path: str, **kwargs: object) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
    return response, time.monotonic() - began


def test_postgres_going_away_is_a_prompt_503_and_service_resumes(
    cluster: ThrowawayPostgres, serve: Callable[[str], OvpServer]
) -> None:
    server = serve(cluster.url)
    with server.http("trouble") as client:
        created = client.post(PROFILES, json={"name": "office"})
        assert created.status_code == 200
        path = f"{PROFILES}/{created.json()['data']['id']}"

        cluster.stop()
        for method, target, body in (("GET", path, None), ("PATCH", path, {"name": "x" * 5}), ("GET", PROFILES, None)):
            response, seconds = timed(client, method, target, json=body)
            assert response.status_code == 503, response.text
            assert seconds < PROMPT_S
            error = response.json()["errors"][0]
            assert error["code"] == "10007"
            assert "Traceback" not in response.text
            assert "psycopg" not in response.text
            assert response.headers["retry-after"] == "1"
        ready, seconds = timed(client, "GET", "/readyz")
        assert ready.status_code == 503
        assert seconds < PROMPT_S
        assert client.get("/healthz").status_code == 200  # the process itself is alive

        cluster.start()
        deadline = time.monotonic() + RESUME_S
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, "not ready again after the database came back"
            time.sleep(0.2)
        assert client.get(path).json()["data"] == created.json()["data"]
        assert client.patch(path, json={"name": "resumed"}).status_code == 200


@contextmanager
def write_lock_held(database: Path) -> Iterator[None]:
    """Another process's view: a connection of our own takes SQLite's write lock and keeps it,
    past ovp's bounded wait, for the block."""
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_sqlite_locked_past_the_wait_is_a_503(tmp_path: Path, serve: Callable[[str], OvpServer]) -> None:
    database = tmp_path / "locked.db"
    server = serve(f"sqlite:///{database}")
    with server.http("locked") as client:
        created = client.post(PROFILES, json={"name": "office"}).json()["data"]
        with write_lock_held(database):
            response, seconds = timed(client, "PATCH", f"{PROFILES}/{created['id']}", json={"name": "blocked"})
        assert response.status_code == 503
        assert seconds < PROMPT_S
        assert client.get(f"{PROFILES}/{created['id']}").json()["data"]["name"] == "office"
        assert client.patch(f"{PROFILES}/{created['id']}", json={"name": "after"}).status_code == 200


def test_writes_waiting_together_on_a_locked_sqlite_all_get_one_prompt_503(
    tmp_path: Path, serve: Callable[[str], OvpServer]
) -> None:
    """Eight writes that arrive together share one wait: not one bounded wait each, one after
    another, with the server's event loop held all along."""
    database = tmp_path / "locked.db"
    server = serve(f"sqlite:///{database}")
    with server.http("locked") as client:
        created = client.post(PROFILES, json={"name": "office"}).json()["data"]

    async def together() -> list[int]:
        async with async_client(server.origin, "locked", 8) as client:
            patches = [client.patch(f"{PROFILES}/{created['id']}", json={"name": f"blocked {n}"}) for n in range(8)]
            return [response.status_code for response in await asyncio.gather(*patches)]

    began = time.monotonic()
    with write_lock_held(database):
        statuses = asyncio.run(together())
    assert statuses == [503] * 8
    assert time.monotonic() - began < PROMPT_S  # eight waits in a row would take 40 s
