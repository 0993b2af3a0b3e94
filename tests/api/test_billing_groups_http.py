"""Billing groups over HTTP, in-process: every operation, as Telnyx's `/v2/billing_groups` answers
them, accounts kept apart, and what a profile's `billing_group_id` does with them."""

from __future__ import annotations

import re
import uuid
from typing import Any

import schemathesis

from ovp.api.documents import openapi_document
from tests.conftest import PROFILES, Api

GROUPS = "/v2/billing_groups"
ADMIN = "/_ovp/admin"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def create(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.request("POST", GROUPS, json=fields)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_create_retrieve_update_and_delete(api: Api) -> None:
    created = create(api, name="West coast", unknown_field="ignored")
    assert set(created) == {"id", "record_type", "name", "organization_id", "created_at", "updated_at", "deleted_at"}
    assert str(uuid.UUID(created["id"])) == created["id"]
    assert (created["record_type"], created["name"], created["deleted_at"]) == ("billing_group", "West coast", None)
    assert TIMESTAMP.fullmatch(created["created_at"])
    assert created["updated_at"] == created["created_at"]
    assert str(uuid.UUID(created["organization_id"])) == created["organization_id"]
    assert create(api)["organization_id"] == created["organization_id"]  # one organization per account
    path = f"{GROUPS}/{created['id']}"

    retrieved = api.request("GET", path)
    assert retrieved.status_code == 200
    assert retrieved.json()["data"] == created
    assert api.request("GET", f"{GROUPS}/{created['id'].upper()}").json()["data"] == created  # any case of a UUID

    updated = api.request("PATCH", path, json={"name": "East coast"}, headers={"If-Match": retrieved.headers["ETag"]})
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["name"] == "East coast"
    assert updated.json()["data"]["created_at"] == created["created_at"]
    stale = api.request("PATCH", path, json={"name": "x"}, headers={"If-Match": retrieved.headers["ETag"]})
    assert stale.status_code == 412

    deleted = api.request("DELETE", path)
    assert deleted.status_code == 200
    assert deleted.json()["data"]["name"] == "East coast"
    assert TIMESTAMP.fullmatch(deleted.json()["data"]["deleted_at"])
    assert api.request("GET", path).status_code == 404
    assert api.request("DELETE", path).status_code == 404


def test_bad_names_and_ids_are_refused_with_their_pointers(api: Api) -> None:
    for body, pointer in (({"name": 5}, "/name"), ({"name": "x" * 256}, "/name"), ({"name": "a\x00b"}, "/name")):
        response = api.request("POST", GROUPS, json=body)
        assert response.status_code == 422, body
        assert [error["source"] for error in response.json()["errors"]] == [{"pointer": pointer}]
    assert api.request("POST", GROUPS, json=["name"]).status_code == 422
    assert api.request("GET", f"{GROUPS}/not-a-uuid").status_code == 404
    assert api.request("GET", f"{GROUPS}/{uuid.uuid4()}").status_code == 404


def test_the_list_pages_newest_first_and_accounts_stay_apart(api: Api, other_api: Api) -> None:
    groups = [create(api, name=f"group {number}") for number in range(3)]
    listed = api.request("GET", GROUPS, params={"page[size]": "2"}).json()
    assert [group["id"] for group in listed["data"]] == [groups[2]["id"], groups[1]["id"]]
    assert listed["meta"] == {"page_number": 1, "page_size": 2, "total_pages": 2, "total_results": 3}
    second = api.request("GET", GROUPS, params={"page[size]": "2", "page[number]": "2"}).json()
    assert [group["id"] for group in second["data"]] == [groups[0]["id"]]
    bad = api.request("GET", GROUPS, params={"page[size]": "251"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["source"] == {"parameter": "page[size]"}

    assert other_api.request("GET", GROUPS).json()["data"] == []
    assert other_api.request("GET", f"{GROUPS}/{groups[0]['id']}").status_code == 404
    assert other_api.request("PATCH", f"{GROUPS}/{groups[0]['id']}", json={"name": "mine"}).status_code == 404
    assert other_api.request("DELETE", f"{GROUPS}/{groups[0]['id']}").status_code == 404
    assert create(other_api)["organization_id"] != groups[0]["organization_id"]


def test_a_profile_names_a_group_by_id_and_an_unknown_id_is_kept(api: Api) -> None:
    group = create(api, name="Sales")
    profile = api.create(billing_group_id=group["id"].upper())
    assert profile["billing_group_id"] == group["id"]
    # Telnyx documents no refusal of an id no group has (its own example names one its readers do not
    # own): ovp keeps it, and a deleted group's id stays on its profiles.
    stranger = str(uuid.uuid4())
    assert api.create(billing_group_id=stranger)["billing_group_id"] == stranger
    assert api.request("DELETE", f"{GROUPS}/{group['id']}").status_code == 200
    assert api.request("GET", f"{PROFILES}/{profile['id']}").json()["data"]["billing_group_id"] == group["id"]


def test_seed_reset_and_journal_cover_billing_groups(api: Api, other_api: Api) -> None:
    group_id = "f5586561-8ff0-4291-a0ac-84fe544797bd"
    seed = {"billing_groups": [{"id": group_id, "name": "Seeded", "created_at": "2024-01-02T03:04:05.678Z"}]}
    loaded = api.request("POST", f"{ADMIN}/seed", json=seed)
    assert loaded.json()["data"] == {"loaded_profiles": 0, "loaded_connections": 0, "loaded_billing_groups": 1,
                                     "loaded_ips": 0, "loaded_fqdns": 0}
    shown = api.request("GET", f"{GROUPS}/{group_id}").json()["data"]
    assert (shown["name"], shown["created_at"], shown["updated_at"]) == ("Seeded", "2024-01-02T03:04:05.678Z",
                                                                         "2024-01-02T03:04:05.678Z")
    assert other_api.request("POST", f"{ADMIN}/seed", json=seed).status_code == 200  # the same id, another account

    refused = api.request("POST", f"{ADMIN}/seed", json={"billing_groups": [{"id": "42"}, {"id": group_id},
                                                                            {"id": group_id, "name": 7}]})
    assert refused.status_code == 422
    assert sorted(error["source"]["pointer"] for error in refused.json()["errors"]) == [
        "/billing_groups/0/id", "/billing_groups/2/id", "/billing_groups/2/name"]

    journal = api.request("GET", f"{ADMIN}/journal").json()["data"]
    assert [entry["path"] for entry in journal if entry["path"].startswith(GROUPS)] == [f"{GROUPS}/{group_id}"]
    assert api.request("POST", f"{ADMIN}/reset").status_code == 200
    assert api.request("GET", f"{GROUPS}/{group_id}").status_code == 404
    assert other_api.request("GET", f"{GROUPS}/{group_id}").status_code == 200  # the other account keeps its own


def test_answers_match_the_documented_schemas(api: Api) -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    created = api.request("POST", GROUPS, json={"name": "documented"})
    path = f"{GROUPS}/{created.json()['data']['id']}"
    answers = [
        ("POST", GROUPS, created),
        ("POST", GROUPS, api.request("POST", GROUPS, json={})),
        ("GET", GROUPS, api.request("GET", GROUPS)),
        ("GET", GROUPS + "/{id}", api.request("GET", path)),
        ("PATCH", GROUPS + "/{id}", api.request("PATCH", path, json={"name": "changed"})),
        ("PATCH", GROUPS + "/{id}", api.request("PATCH", path, json={"name": 1})),
        ("DELETE", GROUPS + "/{id}", api.request("DELETE", path)),
        ("GET", GROUPS + "/{id}", api.request("GET", path)),
    ]
    for method, template, response in answers:
        assert response.status_code < 500
        schema[template][method].validate_response(response)
