"""Credential connections over HTTP, in-process, and what they do to the profiles they name."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
import schemathesis

from ovp.api.documents import openapi_document
from tests.conftest import PROFILES, Api

CONNECTIONS = "/v2/credential_connections"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
UNKNOWN_ID = "1293384261075731499"
USER_NUMBERS = itertools.count(1)  # user names are unique within an account


def connect(api: Api, profile_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """Creates a connection (attached to `profile_id` when given) and answers it."""
    body: dict[str, Any] = {"connection_name": "office", "user_name": f"office{next(USER_NUMBERS)}",
                            "password": "s3cret-pass", **fields}
    if profile_id is not None:
        body["outbound"] = {**body.get("outbound", {}), "outbound_voice_profile_id": profile_id}
    response = api.request("POST", CONNECTIONS, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def count_of(api: Api, profile_id: str) -> int:
    response = api.request("GET", f"{PROFILES}/{profile_id}")
    assert response.status_code == 200, response.text
    count: int = response.json()["data"]["connections_count"]
    return count


def errors(response: Any) -> list[tuple[str, dict[str, str] | None]]:
    return [(error["code"], error.get("source")) for error in response.json()["errors"]]


# CRUD ------------------------------------------------------------------------------------------------------


def test_create_answers_201_with_the_whole_connection(api: Api) -> None:
    response = api.request("POST", CONNECTIONS, json={
        "connection_name": "Front desk", "user_name": "frontdesk1", "password": "my123secure456password789",
        "tags": ["office"], "outbound": {"channel_limit": 10}, "inbound": {"codecs": ["OPUS"]},
    })
    assert response.status_code == 201
    assert response.headers["etag"] == '"1"'
    connection = response.json()["data"]
    assert connection["id"].isdigit()
    assert 0 < int(connection["id"]) < 2**63
    assert connection["record_type"] == "credential_connection"
    assert TIMESTAMP.fullmatch(connection["created_at"])
    assert connection["updated_at"] == connection["created_at"]
    assert connection["password"] == "my123secure456password789"  # in full on create
    assert connection["outbound"]["channel_limit"] == 10
    assert connection["outbound"]["outbound_voice_profile_id"] is None
    assert connection["outbound"]["localization"] == "US"
    assert connection["inbound"]["codecs"] == ["OPUS"]
    assert connection["inbound"]["timeout_2xx_secs"] == 90
    assert (connection["active"], connection["tags"], connection["dtmf_type"]) == (True, ["office"], "RFC 2833")


def test_retrieve_answers_what_create_answered_with_the_password_masked(api: Api) -> None:
    created = connect(api, tags=["x"])
    response = api.request("GET", f"{CONNECTIONS}/{created['id']}")
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert response.json() == {"data": {**created, "password": "********"}}


def test_patch_is_partial_and_merges_nested_objects(api: Api) -> None:
    created = connect(api, outbound={"channel_limit": 5, "localization": "GB"})
    path = f"{CONNECTIONS}/{created['id']}"
    response = api.request("PATCH", path, json={"active": False, "outbound": {"channel_limit": 7}, "id": "1"})
    assert response.status_code == 200
    assert response.headers["etag"] == '"2"'
    updated = response.json()["data"]
    assert updated["active"] is False
    assert updated["outbound"] == {**created["outbound"], "channel_limit": 7}
    assert updated["password"] == "********"  # the update did not change it
    assert updated["updated_at"] >= created["updated_at"]
    assert {**updated, "active": True, "outbound": created["outbound"], "updated_at": created["updated_at"],
            "password": created["password"]} == created
    assert api.request("GET", path).json()["data"] == updated


def test_patch_that_changes_the_password_shows_it_once(api: Api) -> None:
    path = f"{CONNECTIONS}/{connect(api)['id']}"
    changed = api.request("PATCH", path, json={"password": "an0ther-secret"}).json()["data"]
    assert changed["password"] == "an0ther-secret"
    assert api.request("PATCH", path, json={"password": "an0ther-secret"}).json()["data"]["password"] == "********"
    assert api.request("GET", path).json()["data"]["password"] == "********"


def test_delete_answers_the_connection_as_it_was_and_removes_it(api: Api) -> None:
    created = connect(api)
    path = f"{CONNECTIONS}/{created['id']}"
    response = api.request("DELETE", path)
    assert response.status_code == 200
    assert response.json() == {"data": {**created, "password": "********"}}
    assert api.request("GET", path).status_code == 404
    assert api.request("DELETE", path).status_code == 404


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
@pytest.mark.parametrize("connection_id", [UNKNOWN_ID, "abc", "0123", "99999999999999999999"])
def test_no_such_connection_is_404(api: Api, method: str, connection_id: str) -> None:
    response = api.request(method, f"{CONNECTIONS}/{connection_id}", json={})
    assert response.status_code == 404
    assert errors(response) == [("10005", None)]


def test_if_match_guards_updates_and_deletes(api: Api) -> None:
    path = f"{CONNECTIONS}/{connect(api)['id']}"
    assert api.request("PATCH", path, json={"tags": ["a"]}, headers={"If-Match": '"1"'}).status_code == 200
    stale = api.request("DELETE", path, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert api.request("GET", path).status_code == 200
    assert api.request("DELETE", path, headers={"If-Match": '"2"'}).status_code == 200


def test_accounts_never_see_each_other(api: Api, other_api: Api) -> None:
    mine = connect(api)
    path = f"{CONNECTIONS}/{mine['id']}"
    assert other_api.request("GET", path).status_code == 404
    assert other_api.request("PATCH", path, json={"connection_name": "stolen"}).status_code == 404
    assert other_api.request("DELETE", path).status_code == 404
    assert other_api.request("GET", CONNECTIONS).json()["meta"]["total_results"] == 0
    assert api.request("GET", path).json()["data"]["connection_name"] == "office"


# Validation ------------------------------------------------------------------------------------------------


def test_create_lists_every_problem_with_its_pointer(api: Api) -> None:
    response = api.request("POST", CONNECTIONS, json={
        "user_name": "ab c", "password": "short", "active": "yes",
        "outbound": {"outbound_voice_profile_id": "x", "t38_reinvite_source": "me"},
    })
    assert response.status_code == 422
    assert errors(response) == [
        # In the order of the fields: first those every kind of connection has, then a credential one's own.
        ("10004", {"pointer": "/connection_name"}),
        ("10026", {"pointer": "/active"}),
        ("10015", {"pointer": "/user_name"}),
        ("10025", {"pointer": "/password"}),
        ("10015", {"pointer": "/outbound/outbound_voice_profile_id"}),
        ("10032", {"pointer": "/outbound/t38_reinvite_source"}),
    ]
    assert api.request("GET", CONNECTIONS).json()["meta"]["total_results"] == 0


def test_invalid_patch_changes_nothing(api: Api) -> None:
    created = connect(api)
    path = f"{CONNECTIONS}/{created['id']}"
    response = api.request("PATCH", path, json={"connection_name": "renamed", "inbound": {"timeout_1xx_secs": 0}})
    assert response.status_code == 422
    assert errors(response) == [("10033", {"pointer": "/inbound/timeout_1xx_secs"})]
    assert api.request("GET", path).json()["data"] == {**created, "password": "********"}


def test_an_unknown_profile_is_422_at_its_pointer(api: Api, other_api: Api) -> None:
    theirs = other_api.create()["id"]
    for profile_id in (UNKNOWN_ID, theirs):
        response = api.request("POST", CONNECTIONS, json={
            "connection_name": "office", "user_name": "office1", "password": "s3cret-pass",
            "outbound": {"outbound_voice_profile_id": profile_id},
        })
        assert response.status_code == 422
        assert errors(response) == [("10015", {"pointer": "/outbound/outbound_voice_profile_id"})]
    path = f"{CONNECTIONS}/{connect(api)['id']}"
    response = api.request("PATCH", path, json={"outbound": {"outbound_voice_profile_id": theirs}})
    assert errors(response) == [("10015", {"pointer": "/outbound/outbound_voice_profile_id"})]
    assert count_of(other_api, theirs) == 0
    assert api.request("GET", CONNECTIONS).json()["meta"]["total_results"] == 1


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page[size]": "251"}, "page[size]"),
        ({"sort": "name"}, "sort"),
        ({"filter[connection_name][contains]": "of"}, "filter[connection_name][contains]"),
        ({"filter[outbound.outbound_voice_profile_id]": "office"}, "filter[outbound.outbound_voice_profile_id]"),
    ],
)
def test_a_bad_list_parameter_is_422_naming_it(api: Api, params: dict[str, str], parameter: str) -> None:
    response = api.request("GET", CONNECTIONS, params=params)
    assert response.status_code == 422
    assert [source for _code, source in errors(response)] == [{"parameter": parameter}]


# Lists -----------------------------------------------------------------------------------------------------


def test_list_pages_sorts_and_filters_by_name(api: Api) -> None:
    names = ["Alpha office", "beta", "Gamma OFFICE", "delta", "epsilon office"]
    created = [connect(api, connection_name=name, active=index % 2 == 0) for index, name in enumerate(names)]
    everything = api.request("GET", CONNECTIONS).json()
    assert [c["id"] for c in everything["data"]] == [c["id"] for c in reversed(created)]
    assert everything["meta"] == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 5}
    assert {c["password"] for c in everything["data"]} == {"********"}

    params = {"page[size]": "2", "page[number]": "2", "sort": "connection_name"}
    page = api.request("GET", CONNECTIONS, params=params).json()
    assert [c["connection_name"] for c in page["data"]] == ["delta", "epsilon office"]
    assert page["meta"] == {"page_number": 2, "page_size": 2, "total_pages": 3, "total_results": 5}

    params = {"filter[connection_name][contains]": "OFFice", "sort": "-connection_name"}
    filtered = api.request("GET", CONNECTIONS, params=params).json()
    assert [c["connection_name"] for c in filtered["data"]] == ["Gamma OFFICE", "epsilon office", "Alpha office"]
    assert filtered["meta"]["total_results"] == 3

    by_active = api.request("GET", CONNECTIONS, params={"sort": "active"}).json()["data"]
    assert [c["active"] for c in by_active] == [False, False, True, True, True]


def test_list_filters_by_outbound_profile(api: Api) -> None:
    office, branch = api.create()["id"], api.create(name="branch")["id"]
    attached = [connect(api, office, connection_name=f"office {n}")["id"] for n in range(3)]
    connect(api, branch)
    connect(api)
    for name in ("filter[outbound.outbound_voice_profile_id]", "filter[outbound_voice_profile_id]"):
        found = api.request("GET", CONNECTIONS, params={name: office, "sort": "created_at"}).json()
        assert [c["id"] for c in found["data"]] == attached
        assert found["meta"]["total_results"] == 3
    both = {"filter[outbound.outbound_voice_profile_id]": branch, "filter[connection_name][contains]": "office"}
    assert api.request("GET", CONNECTIONS, params=both).json()["data"][0]["outbound"]["outbound_voice_profile_id"] \
        == branch
    nothing = api.request("GET", CONNECTIONS, params={"filter[outbound_voice_profile_id]": UNKNOWN_ID}).json()
    assert nothing == {"data": [], "meta": {"page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0}}


def test_list_page_past_the_end_is_empty_with_true_meta(api: Api) -> None:
    connect(api)
    page = api.request("GET", CONNECTIONS, params={"page[number]": "4", "page[size]": "1"}).json()
    assert page == {"data": [], "meta": {"page_number": 4, "page_size": 1, "total_pages": 1, "total_results": 1}}


# Profiles' connections_count and delete refusal ------------------------------------------------------------


def test_connections_count_is_true_on_every_profile_answer(api: Api, other_api: Api) -> None:
    created = api.create()
    profile_id = created["id"]
    assert created["connections_count"] == 0
    first = connect(api, profile_id)
    connect(api, profile_id)
    other_api.create()  # another account's profile changes nothing here
    assert count_of(api, profile_id) == 2
    patched = api.request("PATCH", f"{PROFILES}/{profile_id}", json={"name": "renamed"}).json()["data"]
    assert patched["connections_count"] == 2
    api.request("PATCH", f"{CONNECTIONS}/{first['id']}", json={"outbound": {"outbound_voice_profile_id": None}})
    assert count_of(api, profile_id) == 1


def test_a_list_counts_each_profile_s_connections(api: Api) -> None:
    counts = {api.create(name=f"profile {n}")["id"]: n for n in range(4)}
    for profile_id, count in counts.items():
        for _ in range(count):
            connect(api, profile_id)
    listed = api.request("GET", PROFILES, params={"page[size]": "3"}).json()["data"]
    listed += api.request("GET", PROFILES, params={"page[size]": "3", "page[number]": "2"}).json()["data"]
    assert {profile["id"]: profile["connections_count"] for profile in listed} == counts


def test_moving_a_connection_moves_the_count(api: Api) -> None:
    office, branch = api.create()["id"], api.create(name="branch")["id"]
    connection = connect(api, office)
    path = f"{CONNECTIONS}/{connection['id']}"
    moved = api.request("PATCH", path, json={"outbound": {"outbound_voice_profile_id": branch}})
    assert moved.json()["data"]["outbound"]["outbound_voice_profile_id"] == branch
    assert (count_of(api, office), count_of(api, branch)) == (0, 1)


@pytest.mark.parametrize("release", ["detach", "delete", "reset"])
def test_a_profile_in_use_is_not_deleted_until_released(api: Api, release: str) -> None:
    profile = api.create()
    profile_path = f"{PROFILES}/{profile['id']}"
    connection_path = f"{CONNECTIONS}/{connect(api, profile['id'])['id']}"
    connect(api, profile["id"])

    refused = api.request("DELETE", profile_path)
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert (error["code"], error["title"]) == ("10021", "Resource in use")
    assert "2 connections" in error["detail"]
    assert count_of(api, profile["id"]) == 2  # nothing deleted

    if release == "reset":
        assert api.request("POST", "/_ovp/admin/reset").status_code == 200
        assert api.request("GET", CONNECTIONS).json()["meta"]["total_results"] == 0
        assert api.request("GET", profile_path).status_code == 404
        return
    if release == "detach":
        api.request("PATCH", connection_path, json={"outbound": {"outbound_voice_profile_id": None}})
    else:
        api.request("DELETE", connection_path)
    assert "1 connection;" in api.request("DELETE", profile_path).json()["errors"][0]["detail"]
    for path in [c["id"] for c in api.request("GET", CONNECTIONS).json()["data"]]:
        api.request("DELETE", f"{CONNECTIONS}/{path}")
    deleted = api.request("DELETE", profile_path)
    assert deleted.status_code == 200
    assert deleted.json()["data"]["connections_count"] == 0
    assert api.request("GET", profile_path).status_code == 404


# The served document ---------------------------------------------------------------------------------------


def test_answers_match_the_documented_schemas(api: Api) -> None:
    """Schemathesis draws mostly refused bodies; these real answers are checked against ovp's document."""
    schema = schemathesis.openapi.from_dict(openapi_document())
    profile_id = api.create()["id"]
    created = api.request("POST", CONNECTIONS, json={
        "connection_name": "office", "user_name": "office1", "password": "s3cret-pass",
        "outbound": {"outbound_voice_profile_id": profile_id}, "webhook_event_url": "https://example.com",
    })
    path = f"{CONNECTIONS}/{created.json()['data']['id']}"
    answers = [
        ("POST", CONNECTIONS, created),
        ("GET", CONNECTIONS, api.request("GET", CONNECTIONS)),
        ("GET", CONNECTIONS + "/{id}", api.request("GET", path)),
        ("PATCH", CONNECTIONS + "/{id}", api.request("PATCH", path, json={"encrypted_media": "SRTP"})),
        ("DELETE", PROFILES + "/{id}", api.request("DELETE", f"{PROFILES}/{profile_id}")),
        ("DELETE", CONNECTIONS + "/{id}", api.request("DELETE", path)),
    ]
    for method, template, response in answers:
        assert response.status_code < 500
        schema[template][method].validate_response(response)
