"""IP connections over HTTP, in-process: Telnyx's defaults and validation, a profile used by
connections of two kinds, and each kind's path finding only its own."""

from __future__ import annotations

from typing import Any

import schemathesis

from ovp.api.documents import openapi_document
from tests.api.test_calls_http import CALLS, US, load_deck
from tests.api.test_connections_http import CONNECTIONS, UNKNOWN_ID, connect, count_of
from tests.conftest import PROFILES, Api

IP_CONNECTIONS = "/v2/ip_connections"


def ip_connect(api: Api, profile_id: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"connection_name": "pbx trunk", **fields}
    if profile_id is not None:
        body["outbound"] = {**body.get("outbound", {}), "outbound_voice_profile_id": profile_id}
    response = api.request("POST", IP_CONNECTIONS, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_create_answers_201_with_telnyx_defaults(api: Api) -> None:
    created = ip_connect(api, tags=["pbx"], outbound={"tech_prefix": "1234", "channel_limit": 10},
                         inbound={"sip_subdomain": "acme-pbx"})
    assert created["record_type"] == "ip_connection"
    assert created["id"].isdigit()
    assert (created["transport_protocol"], created["active"], created["tags"]) == ("UDP", True, ["pbx"])
    assert "password" not in created
    assert "user_name" not in created
    assert created["outbound"]["tech_prefix"] == "1234"
    assert created["outbound"]["channel_limit"] == 10
    assert created["outbound"]["ip_authentication_method"] is None
    assert created["inbound"]["sip_region"] == "US"
    assert created["inbound"]["sip_subdomain"] == "acme-pbx"
    assert created["inbound"]["sip_subdomain_receive_settings"] == "from_anyone"
    assert "simultaneous_ringing" not in created["inbound"]
    assert created["rtcp_settings"] == {"capture_enabled": False, "port": "rtp+1", "report_frequency_secs": 5}
    path = f"{IP_CONNECTIONS}/{created['id']}"
    assert api.request("GET", path).json()["data"] == created
    updated = api.request("PATCH", path, json={"transport_protocol": "TLS", "encrypted_media": "SRTP",
                                                "outbound": {"localization": "GB"}})
    assert updated.status_code == 200, updated.text
    data = updated.json()["data"]
    assert (data["transport_protocol"], data["encrypted_media"]) == ("TLS", "SRTP")
    assert (data["outbound"]["localization"], data["outbound"]["tech_prefix"]) == ("GB", "1234")  # merged
    assert api.request("DELETE", path).json()["data"]["id"] == created["id"]
    assert api.request("GET", path).status_code == 404


def test_every_problem_is_named_with_its_pointer(api: Api) -> None:
    response = api.request("POST", IP_CONNECTIONS, json={
        "transport_protocol": "SCTP", "outbound": {"tech_prefix": "12a4", "outbound_voice_profile_id": "x"},
        "inbound": {"sip_region": "Mars", "sip_subdomain": "Not A Domain"}, "connection_name": 5,
    })
    assert response.status_code == 422
    pointers = sorted(error["source"]["pointer"] for error in response.json()["errors"])
    assert pointers == ["/connection_name", "/inbound/sip_region", "/inbound/sip_subdomain",
                        "/outbound/outbound_voice_profile_id", "/outbound/tech_prefix", "/transport_protocol"]
    srtp = api.request("POST", IP_CONNECTIONS, json={"encrypted_media": "SRTP"})
    assert srtp.status_code == 422
    assert srtp.json()["errors"][0]["source"] == {"pointer": "/encrypted_media"}
    unknown = api.request("POST", IP_CONNECTIONS, json={"outbound": {"outbound_voice_profile_id": UNKNOWN_ID}})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["source"] == {"pointer": "/outbound/outbound_voice_profile_id"}


def test_each_kind_finds_only_its_own_and_the_connections_list_finds_both(api: Api, other_api: Api) -> None:
    profile = api.create()
    credential = connect(api, profile["id"])
    ip = ip_connect(api, profile["id"])
    assert api.request("GET", f"{CONNECTIONS}/{ip['id']}").status_code == 404
    assert api.request("PATCH", f"{CONNECTIONS}/{ip['id']}", json={"active": False}).status_code == 404
    assert api.request("DELETE", f"{IP_CONNECTIONS}/{credential['id']}").status_code == 404
    assert [each["id"] for each in api.request("GET", CONNECTIONS).json()["data"]] == [credential["id"]]
    assert [each["id"] for each in api.request("GET", IP_CONNECTIONS).json()["data"]] == [ip["id"]]
    everything = api.request("GET", "/v2/connections", params={"filter[outbound_voice_profile_id]": profile["id"]})
    assert [(each["id"], each["record_type"]) for each in everything.json()["data"]] == [
        (ip["id"], "ip_connection"), (credential["id"], "credential_connection")]
    assert other_api.request("GET", f"{IP_CONNECTIONS}/{ip['id']}").status_code == 404
    assert other_api.request("GET", IP_CONNECTIONS).json()["data"] == []


def test_a_profile_counts_both_kinds_and_is_held_until_both_let_go(api: Api) -> None:
    profile = api.create()
    credential = connect(api, profile["id"])
    ip = ip_connect(api, profile["id"])
    assert count_of(api, profile["id"]) == 2
    refused = api.request("DELETE", f"{PROFILES}/{profile['id']}")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "10021"
    api.request("DELETE", f"{CONNECTIONS}/{credential['id']}")
    assert api.request("DELETE", f"{PROFILES}/{profile['id']}").status_code == 422  # the IP connection holds it
    detached = api.request("PATCH", f"{IP_CONNECTIONS}/{ip['id']}",
                           json={"outbound": {"outbound_voice_profile_id": None}})
    assert detached.status_code == 200
    assert api.request("DELETE", f"{PROFILES}/{profile['id']}").status_code == 200


def test_a_call_is_authorized_through_an_ip_connection_and_listed_as_active(api: Api) -> None:
    load_deck(api)
    profile = api.create()
    ip = ip_connect(api, profile["id"])
    allowed = api.request("POST", CALLS, json={"connection_id": ip["id"], "to": US, "from": "+12025550100"})
    assert allowed.json()["data"]["decision"] == "allowed", allowed.text
    active = api.request("GET", f"/v2/connections/{ip['id']}/active_calls").json()["data"]
    assert [call["call_control_id"] for call in active] == [f"v3:{allowed.json()['data']['id']}"]


def test_answers_match_the_documented_schemas(api: Api) -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    profile_id = api.create()["id"]
    created = api.request("POST", IP_CONNECTIONS, json={"connection_name": "pbx",
                                                        "outbound": {"outbound_voice_profile_id": profile_id}})
    path = f"{IP_CONNECTIONS}/{created.json()['data']['id']}"
    answers = [
        ("POST", IP_CONNECTIONS, created),
        ("POST", IP_CONNECTIONS, api.request("POST", IP_CONNECTIONS, json={"transport_protocol": 1})),
        ("GET", IP_CONNECTIONS, api.request("GET", IP_CONNECTIONS)),
        ("GET", IP_CONNECTIONS + "/{id}", api.request("GET", path)),
        ("PATCH", IP_CONNECTIONS + "/{id}", api.request("PATCH", path, json={"transport_protocol": "TCP"})),
        ("GET", "/v2/connections", api.request("GET", "/v2/connections")),
        ("DELETE", IP_CONNECTIONS + "/{id}", api.request("DELETE", path)),
    ]
    for method, template, response in answers:
        assert response.status_code < 500
        schema[template][method].validate_response(response)


def test_a_seed_holds_ip_connections_and_ids_are_once_across_kinds(api: Api) -> None:
    seed = {"data": [{"id": "11", "name": "seeded"}],
            "ip_connections": [{"id": "21", "connection_name": "pbx", "outbound": {"outbound_voice_profile_id": "11"}}],
            "credential_connections": [{"id": "22", "connection_name": "desk", "user_name": "desk0001",
                                        "password": "s3cret-pass"}]}
    loaded = api.request("POST", "/_ovp/admin/seed", json=seed)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["data"]["loaded_connections"] == 2
    assert api.request("GET", f"{IP_CONNECTIONS}/21").json()["data"]["outbound"]["outbound_voice_profile_id"] == "11"
    assert count_of(api, "11") == 1
    desk = {"id": "31", "connection_name": "x", "user_name": "clash001", "password": "s3cret-pass"}
    clash = api.request("POST", "/_ovp/admin/seed", json={"ip_connections": [{"id": "31"}],
                                                          "credential_connections": [desk]})
    assert clash.status_code == 422
    assert [error["source"]["pointer"] for error in clash.json()["errors"]] == ["/ip_connections/0/id"]
    # A seeded connection replaces the account's connection of its id, whatever its kind.
    replaced = api.request("POST", "/_ovp/admin/seed", json={"credential_connections": [
        {"id": "21", "connection_name": "now a desk", "user_name": "desk0002", "password": "s3cret-pass"}]})
    assert replaced.status_code == 200, replaced.text
    assert api.request("GET", f"{IP_CONNECTIONS}/21").status_code == 404
    assert api.request("GET", f"{CONNECTIONS}/21").json()["data"]["connection_name"] == "now a desk"
