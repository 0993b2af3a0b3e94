"""End-to-end fixtures: real `ovp serve` processes, each on a free port and an SQLite file of its own.

`server` is one open-mode server shared by the whole session: each test that uses it gets an account
of its own from `account`. `start_server` starts servers a test owns (keys mode, restarts) and stops
each by its PID at teardown.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import telnyx

from tests.e2e.servers import OvpServer, StartServer, launch


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvpServer]:
    """One open-mode server (any bearer token is an account of its own) shared by the tests that
    only need an account of their own: each takes a fresh token from the `account` fixture."""
    directory = tmp_path_factory.mktemp("ovp-shared")
    shared = launch(directory, directory / "ovp.db", auth="open")
    yield shared
    shared.stop()


@pytest.fixture
def database_path(tmp_path: Path) -> Path:
    return tmp_path / "ovp.db"


@pytest.fixture
def start_server(tmp_path: Path, database_path: Path) -> Iterator[StartServer]:
    """A factory for servers of the test's own (on its own database by default); every server it
    starts is stopped at teardown, by its own PID."""
    servers: list[OvpServer] = []

    def start(*, auth: str = "open", database: Path | None = None) -> OvpServer:
        started = launch(tmp_path, database or database_path, auth=auth)
        servers.append(started)
        return started

    yield start
    for started in servers:
        started.stop()


@pytest.fixture
def account(request: pytest.FixtureRequest) -> str:
    """A bearer token of the test's own: in open mode, an account nobody else uses."""
    return f"e2e-{request.node.name}-{secrets.token_hex(4)}"


@pytest.fixture
def client(server: OvpServer, account: str) -> Iterator[telnyx.Telnyx]:
    with server.client(account) as sdk:
        yield sdk


@pytest.fixture
def http(server: OvpServer, account: str) -> Iterator[httpx.Client]:
    with server.http(account) as raw:
        yield raw
