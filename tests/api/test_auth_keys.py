"""Keys mode: only keys made by `ovp keys create` work, each bound to its account."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.config import Settings
from ovp.domain.clock import now_timestamp
from ovp.domain.keys import new_key
from ovp.store import keys as key_store
from tests.conftest import PROFILES, bearer
from tests.databases import migrated_database


def make_key(url: str, account: str) -> str:
    key = new_key()
    with migrated_database(url) as database:
        database.write(lambda tx: key_store.insert(tx, account, key, now_timestamp()))
    return key.secret


@pytest.fixture
def url(file_database_url: str) -> str:
    return file_database_url


@pytest.fixture
def client(url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=url, auth="keys"))) as test_client:
        yield test_client


def test_unknown_keys_are_refused(client: TestClient) -> None:
    response = client.get(PROFILES, headers=bearer("KEYnot-a-real-key"))
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "10009"


def test_two_keys_of_one_account_share_its_data_and_other_accounts_do_not(client: TestClient, url: str) -> None:
    first, second, stranger = make_key(url, "acme"), make_key(url, "acme"), make_key(url, "globex")
    created = client.post(PROFILES, json={"name": "office"}, headers=bearer(first)).json()["data"]
    assert client.get(f"{PROFILES}/{created['id']}", headers=bearer(second)).status_code == 200
    assert client.get(f"{PROFILES}/{created['id']}", headers=bearer(stranger)).status_code == 404


def test_open_mode_tokens_do_not_work_in_keys_mode(client: TestClient) -> None:
    assert client.get(PROFILES, headers=bearer("anything")).status_code == 401


def test_public_documents_need_no_key(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").json() == {"status": "ready"}
    assert client.get("/v2/openapi.json").status_code == 200
