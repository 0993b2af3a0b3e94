"""Shared fixtures: the app runs in-process, on a fresh database of each backend, for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.config import Settings
from tests.databases import (
    SKIPPED_REASON,
    BlockingDatabase,
    backends,
    empty_postgres_database,
    migrated_database,
    postgres_admin_url,
    postgres_source,
    scratch_postgres_database,
)

PROFILES = "/v2/outbound_voice_profiles"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Api:
    """A test client bound to one account's token, with the profile routes at hand."""

    def __init__(self, client: TestClient, token: str) -> None:
        self.client = client
        self.headers = bearer(token)

    def create(self, **fields: Any) -> dict[str, Any]:
        response = self.client.post(PROFILES, json={"name": "office", **fields}, headers=self.headers)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.client.request(method, path, headers={**self.headers, **kwargs.pop("headers", {})}, **kwargs)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """This run's own PostgreSQL database (requested only by tests on the postgresql backend)."""
    admin_url = postgres_admin_url()
    assert admin_url is not None, SKIPPED_REASON
    with scratch_postgres_database(admin_url) as url:
        yield url


@pytest.fixture(params=backends())
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database: in-memory SQLite, or this run's PostgreSQL database emptied after the test."""
    if request.param == "sqlite":
        yield "sqlite:///:memory:"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    empty_postgres_database(url)


@pytest.fixture(params=backends())
def file_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database that several connections, apps or processes can open at once: an SQLite
    file, or this run's PostgreSQL database emptied after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ovp.db'}"
        return
    url: str = request.getfixturevalue("postgres_url")
    yield url
    empty_postgres_database(url)


@pytest.fixture
def database(file_database_url: str) -> Iterator[BlockingDatabase]:
    """The store on a migrated database of each backend, driven from the test's own code (a file,
    not memory: some tests open concurrent transactions on it)."""
    with migrated_database(file_database_url) as opened:
        yield opened


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    # Every write runs twice, the first time undone: a work with an effect outside its
    # transaction fails these tests (see ovp.store.database.Database).
    app = create_app(Settings(database_url=database_url, auth="open", rehearse_writes=True))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client, "account-a")


@pytest.fixture
def other_api(client: TestClient) -> Api:
    return Api(client, "account-b")


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Says plainly, at the end of every run, whether PostgreSQL was tested."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        terminalreporter.write_line(f"PostgreSQL: NOT TESTED. {SKIPPED_REASON}.", yellow=True, bold=True)
    else:
        host = make_url(admin_url).set(password=None).render_as_string()
        terminalreporter.write_line(f"PostgreSQL: tested, in a database of this run's own on {host} "
                                    f"({postgres_source()}).")
