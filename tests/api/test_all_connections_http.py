"""`/v2/connections` over HTTP, in-process: every kind of connection as Telnyx's `Connection` shows
it, and each connection's calls in progress, appearing with an authorization and gone at its end."""

from __future__ import annotations

from typing import Any

import schemathesis

from ovp.api.documents import openapi_document
from ovp.domain.calls.call_ids import call_leg_id
from tests.api.test_calls_http import CALLS, US, end, load_deck
from tests.api.test_connections_http import CONNECTIONS, UNKNOWN_ID, connect
from tests.conftest import Api

ALL = "/v2/connections"
SUMMARY_FIELDS = {"id", "record_type", "active", "anchorsite_override", "connection_name", "outbound_voice_profile_id",
                  "tags", "webhook_api_version", "webhook_event_failover_url", "webhook_event_url", "created_at",
                  "updated_at"}


def listed(api: Api, **params: str) -> tuple[list[str], dict[str, int]]:
    response = api.request("GET", ALL, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [each["id"] for each in body["data"]], body["meta"]


def authorize_through(api: Api, connection_id: str) -> dict[str, Any]:
    response = api.request("POST", CALLS, json={"connection_id": connection_id, "to": US, "from": "+12025550100"})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    assert data["decision"] == "allowed", data
    return data


def active_calls(api: Api, connection_id: str, **params: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    response = api.request("GET", f"{ALL}/{connection_id}/active_calls", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["data"], body["meta"]


def test_a_credential_connection_is_listed_and_retrieved_as_telnyx_connection_shows_it(api: Api) -> None:
    profile = api.create()
    connection = connect(api, profile["id"], connection_name="Front desk", tags=["office"],
                         webhook_event_url="https://example.com/hooks")
    ids, meta = listed(api)
    assert ids == [connection["id"]]
    assert meta == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 1}
    response = api.request("GET", f"{ALL}/{connection['id']}")
    assert response.status_code == 200, response.text
    shown = response.json()["data"]
    assert set(shown) == SUMMARY_FIELDS
    assert shown == {
        "id": connection["id"], "record_type": "credential_connection", "active": True,
        "anchorsite_override": "Latency", "connection_name": "Front desk", "outbound_voice_profile_id": profile["id"],
        "tags": ["office"], "webhook_api_version": "1", "webhook_event_failover_url": "",
        "webhook_event_url": "https://example.com/hooks", "created_at": connection["created_at"],
        "updated_at": connection["updated_at"],
    }


def test_the_list_filters_by_profile_name_and_fqdn_and_sorts_and_pages(api: Api) -> None:
    profile = api.create()
    first = connect(api, profile["id"], connection_name="alpha trunk")
    second = connect(api, None, connection_name="beta trunk")
    third = connect(api, profile["id"], connection_name="gamma line")
    assert listed(api, **{"filter[outbound_voice_profile_id]": profile["id"]})[0] == [third["id"], first["id"]]
    assert listed(api, **{"filter[outbound.outbound_voice_profile_id]": profile["id"], "sort": "created_at"})[0] == [
        first["id"], third["id"]]
    assert listed(api, **{"filter[connection_name][contains]": "TRUNK", "sort": "-connection_name"})[0] == [
        second["id"], first["id"]]
    # A credential connection has no FQDN: a filter by FQDN matches none, here and in its own list.
    assert listed(api, **{"filter[fqdn]": "pbx.example.com"}) == ([], {"page_number": 1, "page_size": 20,
                                                                      "total_pages": 0, "total_results": 0})
    own = api.request("GET", CONNECTIONS, params={"filter[fqdn]": "pbx.example.com"})
    assert own.status_code == 200
    assert own.json()["data"] == []
    ids, meta = listed(api, **{"page[size]": "2", "page[number]": "2"})
    assert ids == [first["id"]]
    assert meta == {"page_number": 2, "page_size": 2, "total_pages": 2, "total_results": 3}


def test_bad_list_parameters_are_each_named(api: Api) -> None:
    response = api.request("GET", ALL, params={"page[size]": "0", "filter[outbound_voice_profile_id]": "nope",
                                               "filter[fqdn]": "x" * 256, "sort": "fqdn"})
    assert response.status_code == 422, response.text
    named = sorted(error["source"]["parameter"] for error in response.json()["errors"])
    assert named == ["filter[fqdn]", "filter[outbound_voice_profile_id]", "page[size]", "sort"]


def test_accounts_never_see_each_others_connections(api: Api, other_api: Api) -> None:
    connection = connect(api)
    assert listed(other_api) == ([], {"page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0})
    assert other_api.request("GET", f"{ALL}/{connection['id']}").status_code == 404
    assert other_api.request("GET", f"{ALL}/{connection['id']}/active_calls").status_code == 404
    assert api.request("GET", f"{ALL}/{UNKNOWN_ID}").status_code == 404
    assert api.request("GET", f"{ALL}/not-an-id/active_calls").status_code == 404


def test_active_calls_appear_with_an_authorization_and_go_at_its_end(api: Api) -> None:
    load_deck(api)
    profile = api.create()
    connection = connect(api, profile["id"])
    other = connect(api, profile["id"])
    assert active_calls(api, connection["id"]) == ([], {"page_number": 1, "page_size": 20, "total_pages": 0,
                                                        "total_results": 0})
    calls = [authorize_through(api, connection["id"]) for _ in range(3)]
    authorize_through(api, other["id"])  # on the other connection
    api.request("POST", CALLS, json={"outbound_voice_profile_id": profile["id"], "to": US, "from": "+12025550100"})

    shown, meta = active_calls(api, connection["id"])
    assert [call["call_control_id"] for call in shown] == [f"v3:{call['id']}" for call in calls]  # oldest first
    assert meta["total_results"] == 3
    first = shown[0]
    assert first["record_type"] == "call"
    assert first["client_state"] == ""
    assert 0 <= first["call_duration"] <= 5
    assert len({call["call_leg_id"] for call in shown}) == 3
    assert first["call_leg_id"] != first["call_session_id"]
    assert first["call_leg_id"] == call_leg_id(int(calls[0]["id"]))  # as its webhooks carry it
    again, _ = active_calls(api, connection["id"])
    assert [call["call_leg_id"] for call in again] == [call["call_leg_id"] for call in shown]  # stable ids

    paged, paged_meta = active_calls(api, connection["id"], **{"page[size]": "2", "page[number]": "2"})
    assert [call["call_control_id"] for call in paged] == [f"v3:{calls[2]['id']}"]
    assert paged_meta == {"page_number": 2, "page_size": 2, "total_pages": 2, "total_results": 3}

    end(api, shown[1]["call_control_id"], 30)  # a call is named by its call_control_id too
    remaining, _ = active_calls(api, connection["id"])
    assert [call["call_control_id"] for call in remaining] == [f"v3:{calls[0]['id']}", f"v3:{calls[2]['id']}"]
    assert api.request("GET", f"{CALLS}/v3:{calls[1]['id']}").json()["data"]["status"] == "ended"
    assert api.request("GET", f"{CALLS}/v3:x").status_code == 404
    bad = api.request("GET", f"{ALL}/{connection['id']}/active_calls", params={"page[number]": "zero"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["source"] == {"parameter": "page[number]"}


def test_answers_match_the_documented_schemas(api: Api) -> None:
    load_deck(api)
    schema = schemathesis.openapi.from_dict(openapi_document())
    connection = connect(api, api.create()["id"], webhook_event_url="https://example.com")
    authorize_through(api, connection["id"])
    answers = [
        ("GET", ALL, api.request("GET", ALL)),
        ("GET", ALL + "/{id}", api.request("GET", f"{ALL}/{connection['id']}")),
        ("GET", ALL + "/{id}/active_calls", api.request("GET", f"{ALL}/{connection['id']}/active_calls")),
        ("GET", ALL + "/{id}/active_calls", api.request("GET", f"{ALL}/{UNKNOWN_ID}/active_calls")),
        ("GET", ALL, api.request("GET", ALL, params={"page[size]": "1000"})),
    ]
    for method, template, response in answers:
        assert response.status_code < 500
        schema[template][method].validate_response(response)
