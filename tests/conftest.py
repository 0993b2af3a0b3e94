"""Shared fixtures: the app runs in-process on a fresh in-memory database for each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.config import Settings

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


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(Settings(database_url="sqlite:///:memory:", auth="open"))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def api(client: TestClient) -> Api:
    return Api(client, "account-a")


@pytest.fixture
def other_api(client: TestClient) -> Api:
    return Api(client, "account-b")
