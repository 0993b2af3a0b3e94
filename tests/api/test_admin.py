"""The emulator's admin surface (open mode): reset, seed, journal and fault injection."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.config import Settings
from tests.conftest import PROFILES, Api, bearer

ADMIN = "/_ovp/admin"
SEED = Path(__file__).parents[2] / "examples" / "seed.json"
DOCUMENTED_ID = "1293384261075731499"


def seed_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SEED.read_text())
    return document


def test_the_shipped_seed_loads_the_documented_profile(api: Api) -> None:
    loaded = api.request("POST", f"{ADMIN}/seed", json=seed_document())
    assert loaded.json() == {"data": {"loaded_profiles": 1, "loaded_connections": 0, "loaded_billing_groups": 0,
                                      "loaded_ips": 0, "loaded_fqdns": 0}}
    profile = api.request("GET", f"{PROFILES}/{DOCUMENTED_ID}").json()["data"]
    expected = seed_document()["data"][0]
    for field in ("name", "billing_group_id", "call_recording", "tags", "whitelisted_destinations",
                  "created_at", "updated_at", "daily_spend_limit", "concurrent_call_limit"):
        assert profile[field] == expected[field], field
    assert profile["calling_window"] == {"calls_per_cld": 5, "end_time": "20:00:00", "start_time": "08:00:00"}
    assert profile["connections_count"] == 0  # read-only: counted, not seeded


def test_seeding_again_replaces_and_another_account_holds_the_same_id_apart(api: Api, other_api: Api) -> None:
    api.request("POST", f"{ADMIN}/seed", json=seed_document())
    renamed = seed_document()
    renamed["data"][0]["name"] = "renamed"
    assert api.request("POST", f"{ADMIN}/seed", json=renamed).status_code == 200
    assert api.request("GET", f"{PROFILES}/{DOCUMENTED_ID}").json()["data"]["name"] == "renamed"
    assert other_api.request("POST", f"{ADMIN}/seed", json=seed_document()).status_code == 200
    assert other_api.request("GET", f"{PROFILES}/{DOCUMENTED_ID}").json()["data"]["name"] != "renamed"
    assert api.request("GET", f"{PROFILES}/{DOCUMENTED_ID}").json()["data"]["name"] == "renamed"
    assert other_api.request("DELETE", f"{PROFILES}/{DOCUMENTED_ID}").status_code == 200
    assert api.request("GET", f"{PROFILES}/{DOCUMENTED_ID}").status_code == 200  # each account's own


def test_seeds_are_checked_as_strictly_as_the_api(api: Api) -> None:
    bad = {"data": [
        {"id": "12", "name": "office", "created_at": "2026-13-01T00:00:00.000Z"},
        {"id": "12", "name": "office again"},
        {"id": "13", "name": "third", "updated_at": "2026-02-30T00:00:00.000Z"},
    ]}
    response = api.request("POST", f"{ADMIN}/seed", json=bad)
    assert response.status_code == 422
    assert {e["source"]["pointer"] for e in response.json()["errors"]} == {
        "/data/0/created_at", "/data/1/id", "/data/2/updated_at"}
    assert api.request("GET", PROFILES).json()["meta"]["total_results"] == 0


def test_connections_seeded_beside_their_profiles_count_on_them(api: Api) -> None:
    seed = {
        "data": [{"id": "21", "name": "office"}],
        "credential_connections": [
            {"id": "31", "connection_name": "desk", "user_name": "desk0001", "password": "desk-password-1",
             "outbound": {"outbound_voice_profile_id": "21"}},
            {"id": "32", "connection_name": "hall", "user_name": "hall0001", "password": "hall-password-1",
             "outbound": {"outbound_voice_profile_id": "21"}},
        ],
    }
    loaded = api.request("POST", f"{ADMIN}/seed", json=seed)
    assert loaded.json() == {"data": {"loaded_profiles": 1, "loaded_connections": 2, "loaded_billing_groups": 0,
                                      "loaded_ips": 0, "loaded_fqdns": 0}}
    assert api.request("GET", f"{PROFILES}/21").json()["data"]["connections_count"] == 2
    assert api.request("GET", "/v2/credential_connections/31").json()["data"]["user_name"] == "desk0001"
    orphan = {"credential_connections": [{"id": "33", "connection_name": "lost", "user_name": "lost0001",
                                          "password": "lost-password-1",
                                          "outbound": {"outbound_voice_profile_id": "99"}}]}
    refused = api.request("POST", f"{ADMIN}/seed", json=orphan)
    assert refused.status_code == 422
    pointer = refused.json()["errors"][0]["source"]["pointer"]
    assert pointer == "/credential_connections/0/outbound/outbound_voice_profile_id"


def test_a_bad_seed_lists_every_problem_and_loads_nothing(api: Api) -> None:
    bad = {"data": [{"id": "12", "name": "ok name"}, {"id": "x", "name": "office"}, {"id": "13", "name": "ab"}]}
    response = api.request("POST", f"{ADMIN}/seed", json=bad)
    assert response.status_code == 422
    assert {e["source"]["pointer"] for e in response.json()["errors"]} == {"/data/1/id", "/data/2/name"}
    assert api.request("GET", PROFILES).json()["meta"]["total_results"] == 0


def test_reset_clears_one_account_or_all(api: Api, other_api: Api) -> None:
    api.create()
    other_api.create()
    assert api.request("POST", f"{ADMIN}/reset").json()["data"] == {"scope": "account", "deleted_profiles": 1}
    assert api.request("GET", PROFILES).json()["meta"]["total_results"] == 0
    assert other_api.request("GET", PROFILES).json()["meta"]["total_results"] == 1
    assert api.request("POST", f"{ADMIN}/reset", params={"scope": "all"}).json()["data"]["deleted_profiles"] == 1
    assert other_api.request("GET", PROFILES).json()["meta"]["total_results"] == 0


def test_reset_clears_the_accounts_rates_and_calls(api: Api, other_api: Api) -> None:
    for each in (api, other_api):
        each.request("PUT", "/ovp/rates", content="1,0.01\n", headers={"Content-Type": "text/csv"})
    profile = api.create()
    call = api.request("POST", "/ovp/call_authorizations",
                       json={"outbound_voice_profile_id": profile["id"], "to": "+14155552671", "from": "+12025550100"})
    assert call.json()["data"]["decision"] == "allowed"
    api.request("POST", f"{ADMIN}/reset")
    assert api.request("GET", "/ovp/rates").json()["meta"]["total_results"] == 0
    assert api.request("GET", f"/ovp/call_authorizations/{call.json()['data']['id']}").status_code == 404
    assert other_api.request("GET", "/ovp/rates").json()["meta"]["total_results"] == 1


def test_the_journal_records_each_request_of_the_account(api: Api, other_api: Api) -> None:
    created = api.create(tags=["t"])
    api.request("PATCH", f"{PROFILES}/{created['id']}", json={"name": "office"})
    api.request("GET", PROFILES, params={"page[size]": "5"})
    other_api.request("GET", PROFILES)
    entries = api.request("GET", f"{ADMIN}/journal").json()["data"]
    assert [(e["method"], e["path"], e["status"]) for e in entries] == [
        ("POST", PROFILES, 200),
        ("PATCH", f"{PROFILES}/{created['id']}", 200),
        ("GET", PROFILES, 200),
    ]
    assert entries[1]["body"] == {"name": "office"}
    assert entries[2]["query"] == {"page[size]": "5"}
    assert api.request("DELETE", f"{ADMIN}/journal").json() == {"data": {"cleared": 3}}
    assert api.request("GET", f"{ADMIN}/journal").json() == {"data": []}
    assert len(other_api.request("GET", f"{ADMIN}/journal").json()["data"]) == 1


@pytest.mark.parametrize(("status", "code"), [(429, "10011"), (500, "10007"), (503, "10007")])
def test_faults_fail_the_next_matching_requests_then_stop(api: Api, status: int, code: str) -> None:
    created = api.create()
    armed = api.request("POST", f"{ADMIN}/faults",
                        json={"method": "GET", "path": f"{PROFILES}/*", "times": 2, "status": status})
    assert armed.status_code == 200
    assert api.request("GET", PROFILES).status_code == 200  # does not match
    for _ in range(2):
        failed = api.request("GET", f"{PROFILES}/{created['id']}")
        assert failed.status_code == status
        assert failed.json()["errors"][0]["code"] == code
    assert api.request("GET", f"{PROFILES}/{created['id']}").status_code == 200
    assert api.request("GET", f"{ADMIN}/faults").json() == {"data": []}


@pytest.mark.parametrize("status", [503, 429, 500])
def test_the_journal_keeps_the_body_a_faulted_request_was_sent_with(api: Api, status: int) -> None:
    api.request("POST", f"{ADMIN}/faults", json={"method": "POST", "path": PROFILES, "status": status})
    faulted = api.request("POST", PROFILES, json={"name": "sent while faulted"})
    assert faulted.status_code == status
    assert "injected" in faulted.json()["errors"][0]["detail"]
    after = api.request("POST", PROFILES, json={"name": "sent after"})
    assert after.status_code == 200
    entries = api.request("GET", f"{ADMIN}/journal").json()["data"]
    assert [(entry["status"], entry["body"]) for entry in entries[-2:]] == [
        (status, {"name": "sent while faulted"}), (200, {"name": "sent after"})]


def test_a_delayed_request_is_journaled_and_applied_with_its_body(api: Api) -> None:
    api.request("POST", f"{ADMIN}/faults", json={"method": "POST", "path": PROFILES, "delay_ms": 10})
    assert api.request("POST", PROFILES, json={"name": "late"}).json()["data"]["name"] == "late"
    assert api.request("GET", f"{ADMIN}/journal").json()["data"][-1]["body"] == {"name": "late"}


def test_a_429_fault_carries_the_rate_limit_headers(api: Api) -> None:
    api.request("POST", f"{ADMIN}/faults", json={"status": 429})
    response = api.request("GET", PROFILES)
    assert response.status_code == 429
    assert response.headers["x-ratelimit-limit"] == "100"
    assert response.headers["x-ratelimit-remaining"] == "0"
    assert response.headers["x-ratelimit-reset"] == "1"


def test_a_delay_fault_answers_late_but_answers(api: Api) -> None:
    api.request("POST", f"{ADMIN}/faults", json={"method": "POST", "path": PROFILES, "delay_ms": 300})
    began = time.monotonic()
    assert api.request("POST", PROFILES, json={"name": "slow"}).status_code == 200
    assert time.monotonic() - began >= 0.3


def test_faults_are_per_account_and_validated(api: Api, other_api: Api) -> None:
    api.request("POST", f"{ADMIN}/faults", json={"status": 503, "times": 5})
    assert other_api.request("GET", PROFILES).status_code == 200
    bad = api.request("POST", f"{ADMIN}/faults", json={"status": 418, "times": 0, "colour": "red"})
    assert bad.status_code == 422
    assert {e["source"]["pointer"] for e in bad.json()["errors"]} == {"/status", "/times", "/colour"}
    assert api.request("DELETE", f"{ADMIN}/faults").json() == {"data": {"cleared": 1}}


def test_there_is_no_admin_surface_in_keys_mode(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'keys.db'}", auth="keys"))
    with TestClient(app) as client:
        assert client.post(f"{ADMIN}/reset", headers=bearer("x")).status_code == 404
