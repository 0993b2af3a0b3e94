"""What a new user trips on, over HTTP: a field ovp does not know is ignored and named, every problem
of a request is listed at once, and a URL that missed its prefix is told where the route is."""

from __future__ import annotations

from typing import Any

import pytest

from ovp.api.documents import openapi_document
from tests.conftest import PROFILES, Api

CALLS = "/ovp/call_authorizations"


def test_a_field_ovp_does_not_know_is_ignored_and_named(api: Api) -> None:
    created = api.request("POST", PROFILES, json={"name": "office", "concurrent_calls": 5,
                                                  "calling_window": {"start_time": "08:00", "tz": "UTC"}})
    assert created.status_code == 200, created.text
    assert created.json()["data"]["concurrent_call_limit"] is None  # ignored, as Telnyx ignores it
    assert created.headers["ovp-ignored-fields"] == "concurrent_calls,/calling_window/tz"
    patched = api.request("PATCH", f"{PROFILES}/{created.json()['data']['id']}",
                          json={"name": "office", "concurent_call_limit": 2})
    assert patched.headers["ovp-ignored-fields"] == "concurent_call_limit"
    journal = api.request("GET", "/_ovp/admin/journal").json()["data"]
    assert [entry["ignored_fields"] for entry in journal] == [["concurrent_calls", "/calling_window/tz"],
                                                              ["concurent_call_limit"]]


def test_a_write_of_known_fields_only_says_nothing_of_ignored_ones(api: Api) -> None:
    created = api.request("POST", PROFILES, json={"name": "office", "concurrent_call_limit": 5})
    assert "ovp-ignored-fields" not in created.headers
    refused = api.request("POST", PROFILES, json={"name": "no", "concurrent_calls": 5})
    assert refused.status_code == 422
    assert "ovp-ignored-fields" not in refused.headers  # nothing was written


def test_every_problem_of_a_call_authorization_is_listed_at_once(api: Api) -> None:
    response = api.request("POST", CALLS, json={"to": "4155552671"})
    assert response.status_code == 422
    pointers = sorted(error["source"]["pointer"] for error in response.json()["errors"])
    assert pointers == ["/connection_id", "/from"]


@pytest.mark.parametrize(("asked", "meant"), [
    ("/outbound_voice_profiles", "/v2/outbound_voice_profiles"),
    ("/outbound_voice_profiles/1293384261075731499", "/v2/outbound_voice_profiles/1293384261075731499"),
    ("/v2/call_authorizations", "/ovp/call_authorizations"),
    ("/ovp/credential_connections", "/v2/credential_connections"),
    ("/v2/v2/outbound_voice_profiles", "/v2/outbound_voice_profiles"),
])
def test_a_404_for_a_route_under_another_prefix_says_where_it_is(api: Api, asked: str, meant: str) -> None:
    response = api.request("GET", asked)
    assert response.status_code == 404
    detail: str = response.json()["errors"][0]["detail"]
    assert detail.startswith(f"No route at {asked}: did you mean {meant}?")


def test_a_404_with_nothing_near_says_only_that(api: Api) -> None:
    detail = api.request("GET", "/v2/nothing_here").json()["errors"][0]["detail"]
    assert detail == "The requested resource or URL could not be found."


def test_the_document_lists_only_the_apis_operations() -> None:
    paths: dict[str, Any] = openapi_document()["paths"]
    assert not [path for path in paths if path == "/" or path.startswith("/docs")]
