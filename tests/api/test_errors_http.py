"""Every error in Telnyx's envelope, with the codes docs/api.md gives."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.config import Settings
from tests.conftest import PROFILES, Api, bearer


def only_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert len(errors) == 1, errors
    error: dict[str, Any] = errors[0]
    assert error["code"] == code
    assert error["title"]
    assert error["detail"]
    assert error["meta"] == {"url": f"https://developers.telnyx.com/docs/overview/errors/{code}"}
    return error


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}])
def test_401_without_a_bearer_token(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get(PROFILES, headers=headers)
    only_error(response, 401, "10009")
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("profile_id", ["1293384261075731499", "abc", "9223372036854775808", "-1", "1.5"])
def test_404_for_absent_non_numeric_and_too_large_ids(api: Api, profile_id: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        only_error(api.request(method, f"{PROFILES}/{profile_id}", json={"name": "office"}), 404, "10005")


def test_404_for_an_unknown_path(api: Api) -> None:
    only_error(api.request("GET", "/v2/nothing_here"), 404, "10005")


def test_405_names_the_allowed_methods(api: Api) -> None:
    response = api.request("PUT", PROFILES)
    only_error(response, 405, "10015")
    assert response.headers["allow"] == "GET, HEAD, POST"


def test_413_for_a_body_over_one_mebibyte(api: Api) -> None:
    body = b'{"name": "' + b"x" * (1024 * 1024) + b'"}'
    response = api.request("POST", PROFILES, content=body, headers={"Content-Type": "application/json"})
    only_error(response, 413, "10015")
    assert api.request("GET", PROFILES).json()["meta"]["total_results"] == 0


def test_413_from_the_declared_length_alone(client: TestClient) -> None:
    # A client that announces too large a body is refused before it is read.
    response = client.post(
        PROFILES,
        content=b"{}",
        headers={**bearer("t"), "Content-Type": "application/json", "Content-Length": str(2 * 1024 * 1024)},
    )
    only_error(response, 413, "10015")


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_415_unless_the_body_is_json(api: Api, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    only_error(api.request("POST", PROFILES, content=b'{"name": "office"}', headers=headers), 415, "10015")


def test_json_with_a_charset_is_json(api: Api) -> None:
    headers = {"Content-Type": "application/json; charset=utf-8"}
    assert api.request("POST", PROFILES, content=b'{"name": "office"}', headers=headers).status_code == 200


@pytest.mark.parametrize("body", [b"{", b"", b"{'name': 'x'}", b'{"name": "office"} trailing'])
def test_400_for_invalid_json(api: Api, body: bytes) -> None:
    response = api.request("POST", PROFILES, content=body, headers={"Content-Type": "application/json"})
    only_error(response, 400, "10023")


def test_422_lists_every_problem_with_its_pointer(api: Api) -> None:
    response = api.request(
        "POST", PROFILES, json={"name": "ab", "enabled": "yes", "whitelisted_destinations": ["US", "ZZ"]}
    )
    assert response.status_code == 422
    found = {(e["code"], e["source"]["pointer"]) for e in response.json()["errors"]}
    assert found == {("10025", "/name"), ("10026", "/enabled"), ("10015", "/whitelisted_destinations/1")}


def test_422_for_query_parameters_names_them(api: Api) -> None:
    response = api.request("GET", PROFILES, params={"page[size]": "500", "sort": "colour"})
    assert response.status_code == 422
    assert {(e["code"], e["source"]["parameter"]) for e in response.json()["errors"]} == {
        ("10033", "page[size]"),
        ("10032", "sort"),
    }


def test_500_reveals_nothing_and_the_trace_goes_to_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "broken.db"
    app = create_app(Settings(database_url=f"sqlite:///{database}", auth="open"))
    with TestClient(app) as client:  # migrates the database as it starts
        # Break the store behind the server's back: the table it reads is gone.
        with sqlite3.connect(database) as connection:
            connection.execute("DROP TABLE outbound_voice_profiles")
        response = client.get(PROFILES, headers=bearer("t"))
    error = only_error(response, 500, "10007")
    assert "outbound_voice_profiles" not in response.text
    assert "Traceback" not in response.text
    assert error["detail"] == "An unexpected error occurred."
    assert any("outbound_voice_profiles" in record.exc_text for record in caplog.records if record.exc_text)


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ({"page[size]": "--5"}, "10026", "page[size]"),
        ({"page[number]": "99999999999999999999"}, "10033", "page[number]"),
        ({"page[number]": "9" * 5000}, "10033", "page[number]"),
        ({"filter[name][contains]": "a" * 256}, "10025", "filter[name][contains]"),
        ({"filter[name][contains]": "a\x00b"}, "10015", "filter[name][contains]"),
    ],
)
def test_hostile_query_parameters_are_422_not_500(
    api: Api, params: dict[str, str], code: str, parameter: str
) -> None:
    api.create()
    error = only_error(api.request("GET", PROFILES, params=params), 422, code)
    assert error["source"] == {"parameter": parameter}


def test_a_huge_array_is_refused_at_once_with_one_problem(api: Api) -> None:
    response = api.request("POST", PROFILES, json={"name": "office", "whitelisted_destinations": ["x"] * 100_000})
    error = only_error(response, 422, "10033")
    assert error["source"] == {"pointer": "/whitelisted_destinations"}


def test_nul_in_a_name_is_refused(api: Api) -> None:
    error = only_error(api.request("POST", PROFILES, json={"name": "off\x00ice"}), 422, "10015")
    assert error["source"] == {"pointer": "/name"}


def test_a_name_that_grows_when_case_folded_is_stored(api: Api) -> None:
    created = api.create(name="ß" * 255)
    found = api.request("GET", PROFILES, params={"filter[name][contains]": "SS"}).json()["data"]
    assert [profile["id"] for profile in found] == [created["id"]]


def test_an_id_with_a_leading_zero_names_nothing(api: Api) -> None:
    created = api.create()
    only_error(api.request("GET", f"{PROFILES}/0{created['id']}"), 404, "10005")
