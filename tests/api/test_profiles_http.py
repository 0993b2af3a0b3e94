"""The five operations over HTTP, in-process, as the contract and docs/api.md describe them."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from tests.conftest import PROFILES, Api

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")

DOCUMENTED_EXAMPLE = {
    "billing_group_id": "6a09cdc3-8948-47f0-aa62-74ac943d6c58",
    "calling_window": {"calls_per_cld": 5, "end_time": "20:00:00.00Z", "start_time": "08:00:00.00Z"},
    "concurrent_call_limit": 10,
    "daily_spend_limit": "100.00",
    "daily_spend_limit_enabled": True,
    "enabled": True,
    "max_destination_rate": 10,
    "name": "office",
    "service_plan": "global",
    "tags": ["office-profile"],
    "traffic_type": "conversational",
    "usage_payment_method": "rate-deck",
    "whitelisted_destinations": ["US", "BR", "AU"],
}


def test_create_answers_200_with_the_whole_profile(api: Api) -> None:
    response = api.request("POST", PROFILES, json=DOCUMENTED_EXAMPLE)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    profile = response.json()["data"]
    assert profile["id"].isdigit()
    assert 0 < int(profile["id"]) < 2**63
    assert profile["record_type"] == "outbound_voice_profile"
    assert profile["connections_count"] == 0
    assert TIMESTAMP.fullmatch(profile["created_at"])
    assert profile["updated_at"] == profile["created_at"]
    assert profile["calling_window"] == {"calls_per_cld": 5, "end_time": "20:00:00", "start_time": "08:00:00"}
    assert profile["call_recording"]["call_recording_type"] == "none"
    for field in ("billing_group_id", "concurrent_call_limit", "daily_spend_limit", "tags", "whitelisted_destinations"):
        assert profile[field] == DOCUMENTED_EXAMPLE[field]


def test_retrieve_answers_what_create_answered(api: Api) -> None:
    created = api.create(tags=["x"])
    response = api.request("GET", f"{PROFILES}/{created['id']}")
    assert response.status_code == 200
    assert response.json() == {"data": created}


def test_documented_patch_changes_only_the_name(api: Api) -> None:
    created = api.create(**{**DOCUMENTED_EXAMPLE, "name": "before"})
    response = api.request("PATCH", f"{PROFILES}/{created['id']}", json={"name": "office"})
    assert response.status_code == 200
    updated = response.json()["data"]
    assert updated["name"] == "office"
    assert updated["updated_at"] >= created["updated_at"]
    assert {**updated, "name": "before", "updated_at": created["updated_at"]} == created
    assert api.request("GET", f"{PROFILES}/{created['id']}").json()["data"] == updated


def test_patch_requires_name(api: Api) -> None:
    created = api.create()
    response = api.request("PATCH", f"{PROFILES}/{created['id']}", json={"enabled": False})
    assert response.status_code == 422
    assert response.json()["errors"][0]["code"] == "10004"
    assert response.json()["errors"][0]["source"] == {"pointer": "/name"}
    assert api.request("GET", f"{PROFILES}/{created['id']}").json()["data"]["enabled"] is True


def test_patch_merges_nested_objects_and_replaces_arrays(api: Api) -> None:
    created = api.create(
        call_recording={"call_recording_type": "all", "call_recording_format": "mp3"},
        whitelisted_destinations=["US", "BR"],
    )
    response = api.request(
        "PATCH",
        f"{PROFILES}/{created['id']}",
        json={"name": "office", "call_recording": {"call_recording_channels": "dual"},
              "whitelisted_destinations": ["AU"]},
    )
    assert response.json()["data"]["call_recording"] == {
        "call_recording_type": "all",
        "call_recording_caller_phone_numbers": [],
        "call_recording_channels": "dual",
        "call_recording_format": "mp3",
    }
    assert response.json()["data"]["whitelisted_destinations"] == ["AU"]


def test_invalid_patch_changes_nothing(api: Api) -> None:
    created = api.create(concurrent_call_limit=3)
    response = api.request(
        "PATCH", f"{PROFILES}/{created['id']}", json={"name": "renamed", "concurrent_call_limit": 0}
    )
    assert response.status_code == 422
    assert api.request("GET", f"{PROFILES}/{created['id']}").json()["data"] == created


def test_delete_answers_the_profile_as_it_was_and_removes_it(api: Api) -> None:
    created = api.create()
    response = api.request("DELETE", f"{PROFILES}/{created['id']}")
    assert response.status_code == 200
    assert response.json() == {"data": created}
    assert api.request("GET", f"{PROFILES}/{created['id']}").status_code == 404
    assert api.request("DELETE", f"{PROFILES}/{created['id']}").status_code == 404


def test_list_pages_sorts_and_filters(api: Api) -> None:
    names = ["Alpha office", "beta", "Gamma OFFICE", "delta", "epsilon office"]
    created = [api.create(name=name) for name in names]
    everything = api.request("GET", PROFILES).json()
    assert [p["id"] for p in everything["data"]] == [p["id"] for p in reversed(created)]
    assert everything["meta"] == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 5}

    page = api.request("GET", PROFILES, params={"page[size]": "2", "page[number]": "2", "sort": "name"}).json()
    assert [p["name"] for p in page["data"]] == ["delta", "epsilon office"]
    assert page["meta"] == {"page_number": 2, "page_size": 2, "total_pages": 3, "total_results": 5}

    filtered = api.request("GET", PROFILES, params={"filter[name][contains]": "office", "sort": "-name"}).json()
    assert [p["name"] for p in filtered["data"]] == ["Gamma OFFICE", "epsilon office", "Alpha office"]
    assert filtered["meta"]["total_results"] == 3


def test_list_filter_treats_like_wildcards_literally(api: Api) -> None:
    api.create(name="100% office")
    api.create(name="1000 office")
    found = api.request("GET", PROFILES, params={"filter[name][contains]": "0%"}).json()
    assert [p["name"] for p in found["data"]] == ["100% office"]


def test_list_page_past_the_end_is_empty_with_true_meta(api: Api) -> None:
    api.create()
    page = api.request("GET", PROFILES, params={"page[number]": "9"}).json()
    assert page == {"data": [], "meta": {"page_number": 9, "page_size": 20, "total_pages": 1, "total_results": 1}}


def test_list_paging_is_stable_when_sort_values_tie(api: Api) -> None:
    created = [api.create(name="same name") for _ in range(7)]
    seen = []
    for number in (1, 2, 3, 4):
        page = api.request("GET", PROFILES, params={"page[size]": "2", "page[number]": str(number), "sort": "name"})
        seen += [p["id"] for p in page.json()["data"]]
    assert sorted(seen) == sorted(p["id"] for p in created)
    assert len(seen) == len(set(seen))


def test_accounts_never_see_each_other(api: Api, other_api: Api) -> None:
    mine = api.create()
    path = f"{PROFILES}/{mine['id']}"
    assert other_api.request("GET", path).status_code == 404
    assert other_api.request("PATCH", path, json={"name": "stolen"}).status_code == 404
    assert other_api.request("DELETE", path).status_code == 404
    assert other_api.request("GET", PROFILES).json()["meta"]["total_results"] == 0
    assert api.request("GET", path).json()["data"] == mine


def test_head_answers_like_get_without_a_body(client: TestClient, api: Api) -> None:
    created = api.create()
    response = api.request("HEAD", f"{PROFILES}/{created['id']}")
    assert response.status_code == 200
    assert response.content == b""
