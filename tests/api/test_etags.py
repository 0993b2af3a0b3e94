"""Opt-in optimistic concurrency: ETag on every answer that carries a profile, If-Match on writes."""

from __future__ import annotations

import pytest

from tests.conftest import PROFILES, Api


def test_every_answer_with_a_profile_carries_its_etag(api: Api) -> None:
    created = api.request("POST", PROFILES, json={"name": "office"})
    path = f"{PROFILES}/{created.json()['data']['id']}"
    assert created.headers["etag"] == '"1"'
    assert api.request("GET", path).headers["etag"] == '"1"'
    patched = api.request("PATCH", path, json={"name": "renamed"})
    assert patched.headers["etag"] == '"2"'
    assert api.request("GET", path).headers["etag"] == '"2"'
    assert api.request("DELETE", path).headers["etag"] == '"2"'
    assert "etag" not in api.request("GET", PROFILES).headers


@pytest.mark.parametrize("if_match", ['"2"', '"1", "2"', "*"])
def test_a_write_that_names_the_current_revision_applies(api: Api, if_match: str) -> None:
    path = f"{PROFILES}/{api.create()['id']}"
    api.request("PATCH", path, json={"name": "second"})
    response = api.request("PATCH", path, json={"name": "third"}, headers={"If-Match": if_match})
    assert response.status_code == 200
    assert response.json()["data"]["name"] == "third"


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("if_match", ['"1"', 'W/"2"', '"two"'])
def test_a_write_that_names_another_revision_is_412_and_changes_nothing(
    api: Api, method: str, if_match: str
) -> None:
    path = f"{PROFILES}/{api.create()['id']}"
    current = api.request("PATCH", path, json={"name": "second"}).json()["data"]
    response = api.request(method, path, json={"name": "lost update"}, headers={"If-Match": if_match})
    assert response.status_code == 412
    error = response.json()["errors"][0]
    assert error["code"] == "10015"
    assert error["title"] == "Precondition Failed"
    assert api.request("GET", path).json()["data"] == current


def test_if_match_on_a_missing_profile_is_404(api: Api) -> None:
    response = api.request("PATCH", f"{PROFILES}/1293384261075731499", json={"name": "x" * 3},
                           headers={"If-Match": '"1"'})
    assert response.status_code == 404
