"""End-to-end fixtures: real `ovp serve` processes, each on a free port and an SQLite file of its own.

`server` is one open-mode server shared by the whole session: each test that uses it gets an account
of its own from `account`. `start_server` starts servers a test owns (keys mode, restarts) and stops
each by its PID at teardown.
"""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import telnyx

from tests.databases import backends
from tests.e2e.servers import OvpServer, StartServer, launch
from tests.e2e.throwaway_postgres import ThrowawayPostgres, postgres_binaries, throwaway_postgres


@pytest.fixture(scope="session", params=backends())
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvpServer]:
    """One open-mode server (any bearer token is an account of its own) per backend, shared by the
    tests that only need an account of their own: each takes a fresh token from `account`."""
    directory = tmp_path_factory.mktemp("ovp-shared")
    url = f"sqlite:///{directory / 'ovp.db'}" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    shared = launch(directory, url, auth="open")
    yield shared
    shared.stop()


@pytest.fixture
def database_url(file_database_url: str) -> str:
    """The test's own database, which its servers and `ovp` commands share."""
    return file_database_url


@pytest.fixture
def start_server(tmp_path: Path, database_url: str) -> Iterator[StartServer]:
    """A factory for servers of the test's own (on its own database by default); every server it
    starts is stopped at teardown, by its own PID."""
    servers: list[OvpServer] = []
    default_url = database_url

    def start(*, auth: str = "open", database_url: str | None = None) -> OvpServer:
        started = launch(tmp_path, database_url or default_url, auth=auth)
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


@pytest.fixture
def cluster() -> Iterator[ThrowawayPostgres]:
    """A throwaway PostgreSQL cluster of the test's own, which it may stop and start."""
    binaries = postgres_binaries()
    if binaries is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    # Not under pytest's tmp_path: the `postgres` user must be able to reach the directory.
    with tempfile.TemporaryDirectory(prefix="ovp-pg-") as parent:
        started = throwaway_postgres(Path(parent), binaries)
        yield started
        if started.is_running():
            started.stop()
