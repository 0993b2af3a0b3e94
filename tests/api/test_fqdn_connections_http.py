"""FQDN connections and their FQDNs over HTTP, in-process: Telnyx's defaults and rules, filter[fqdn]
across the connections lists, and a profile used by one connection of each kind."""

from __future__ import annotations

from typing import Any

import schemathesis

from ovp.api.documents import openapi_document
from tests.api.test_connections_http import CONNECTIONS, UNKNOWN_ID, connect, count_of
from tests.api.test_ip_connections_http import IP_CONNECTIONS, ip_connect
from tests.conftest import PROFILES, Api

FQDN_CONNECTIONS = "/v2/fqdn_connections"
FQDNS = "/v2/fqdns"


def fqdn_connect(api: Api, profile_id: str | None = None, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"connection_name": "pbx by name", **fields}
    if profile_id is not None:
        body["outbound"] = {**body.get("outbound", {}), "outbound_voice_profile_id": profile_id}
    response = api.request("POST", FQDN_CONNECTIONS, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def add_fqdn(api: Api, connection_id: str, fqdn: str, **fields: Any) -> dict[str, Any]:
    response = api.request("POST", FQDNS, json={"connection_id": connection_id, "fqdn": fqdn,
                                                "dns_record_type": "a", **fields})
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_create_answers_201_with_telnyx_defaults_and_read_only_fields(api: Api) -> None:
    created = fqdn_connect(api, outbound={"timeout_2xx_secs": 60}, inbound={"sip_region": "Europe"},
                           adjust_dtmf_timestamp=True)
    assert created["record_type"] == "fqdn_connection"
    assert (created["transport_protocol"], created["microsoft_teams_sbc"]) == ("UDP", False)
    assert created["adjust_dtmf_timestamp"] is False  # read-only: ignored in a request
    assert (created["outbound"]["timeout_2xx_secs"], created["outbound"]["timeout_1xx_secs"]) == (60, 3)
    assert created["inbound"]["sip_region"] == "Europe"
    assert created["inbound"]["default_primary_fqdn_id"] is None
    path = f"{FQDN_CONNECTIONS}/{created['id']}"
    assert api.request("GET", path).json()["data"] == created
    srtp = api.request("PATCH", path, json={"outbound": {"encrypted_media": "SRTP"}})
    assert srtp.status_code == 422
    assert srtp.json()["errors"][0]["source"] == {"pointer": "/outbound/encrypted_media"}
    tls = api.request("PATCH", path, json={"transport_protocol": "TLS", "outbound": {"encrypted_media": "SRTP"}})
    assert tls.status_code == 200, tls.text
    nameless = api.request("POST", FQDN_CONNECTIONS, json={"transport_protocol": "TCP"})
    assert nameless.status_code == 422
    assert nameless.json()["errors"][0]["source"] == {"pointer": "/connection_name"}


def test_outbound_tech_prefix_is_an_ip_connections(api: Api) -> None:
    assert fqdn_connect(api)["outbound"]["tech_prefix"] is None
    created = fqdn_connect(api, outbound={"tech_prefix": "0123"})
    assert created["outbound"]["tech_prefix"] == "0123"
    path = f"{FQDN_CONNECTIONS}/{created['id']}"
    kept = api.request("PATCH", path, json={"outbound": {"channel_limit": 4}}).json()["data"]
    assert (kept["outbound"]["tech_prefix"], kept["outbound"]["channel_limit"]) == ("0123", 4)  # merged
    assert api.request("GET", path).json()["data"]["outbound"]["tech_prefix"] == "0123"
    for bad, code in (("123", "10015"), ("12345", "10015"), ("12a4", "10015"), (1234, "10026")):
        for method, target in (("POST", FQDN_CONNECTIONS), ("PATCH", path)):
            refused = api.request(method, target, json={"connection_name": "pbx", "outbound": {"tech_prefix": bad}})
            assert refused.status_code == 422, (method, bad)
            [error] = refused.json()["errors"]
            assert (error["code"], error["source"]) == (code, {"pointer": "/outbound/tech_prefix"}), (method, bad)
    cleared = api.request("PATCH", path, json={"outbound": {"tech_prefix": None}}).json()["data"]
    assert cleared["outbound"]["tech_prefix"] is None


def test_fqdns_follow_the_record_type_rules_and_go_with_their_connection(api: Api, other_api: Api) -> None:
    connection = fqdn_connect(api)
    a_record = add_fqdn(api, connection["id"], "pbx.example.com")
    assert (a_record["record_type"], a_record["port"], a_record["dns_record_type"]) == ("fqdn", 5060, "a")
    srv = add_fqdn(api, connection["id"], "example.com", dns_record_type="srv")
    assert srv["port"] is None
    refused = api.request("POST", FQDNS, json={"connection_id": connection["id"], "fqdn": "example.com",
                                               "dns_record_type": "srv", "port": 5061})
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["source"] == {"pointer": "/port"}
    bad = api.request("POST", FQDNS, json={"connection_id": "x", "fqdn": "not a name", "dns_record_type": "mx"})
    assert sorted(error["source"]["pointer"] for error in bad.json()["errors"]) == [
        "/connection_id", "/dns_record_type", "/fqdn"]
    for connection_id in (UNKNOWN_ID, ip_connect(api)["id"], fqdn_connect(other_api)["id"]):
        wrong = api.request("POST", FQDNS, json={"connection_id": connection_id, "fqdn": "a.example.com",
                                                 "dns_record_type": "a"})
        assert wrong.status_code == 422, connection_id
        assert wrong.json()["errors"][0]["source"] == {"pointer": "/connection_id"}

    moved = api.request("PATCH", f"{FQDNS}/{a_record['id']}", json={"port": 5070})
    assert moved.json()["data"]["port"] == 5070
    listed = api.request("GET", FQDNS, params={"filter[connection_id]": connection["id"],
                                               "filter[dns_record_type]": "a"}).json()["data"]
    assert [fqdn["id"] for fqdn in listed] == [a_record["id"]]
    assert other_api.request("GET", f"{FQDNS}/{a_record['id']}").status_code == 404
    assert api.request("DELETE", f"{FQDN_CONNECTIONS}/{connection['id']}").status_code == 200
    assert api.request("GET", f"{FQDNS}/{a_record['id']}").status_code == 404


def test_filter_fqdn_finds_the_connection_that_has_it(api: Api) -> None:
    named = fqdn_connect(api)
    fqdn_connect(api)
    ip_connect(api)
    connect(api)
    add_fqdn(api, named["id"], "pbx.example.com")
    for path in ("/v2/connections", FQDN_CONNECTIONS):
        found = api.request("GET", path, params={"filter[fqdn]": "pbx.example.com"}).json()["data"]
        assert [each["id"] for each in found] == [named["id"]], path
        assert api.request("GET", path, params={"filter[fqdn]": "PBX.example.com"}).json()["data"] == []  # exact
    for path in (CONNECTIONS, IP_CONNECTIONS):
        assert api.request("GET", path, params={"filter[fqdn]": "pbx.example.com"}).json()["data"] == []


def test_a_profile_used_by_one_connection_of_each_kind(api: Api) -> None:
    profile = api.create()
    credential, ip = connect(api, profile["id"]), ip_connect(api, profile["id"])
    fqdn = fqdn_connect(api, profile["id"])
    assert count_of(api, profile["id"]) == 3
    for path, connection in ((CONNECTIONS, credential), (IP_CONNECTIONS, ip), (FQDN_CONNECTIONS, fqdn)):
        refused = api.request("DELETE", f"{PROFILES}/{profile['id']}")
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["code"] == "10021"
        assert api.request("DELETE", f"{path}/{connection['id']}").status_code == 200
    assert api.request("DELETE", f"{PROFILES}/{profile['id']}").status_code == 200


def test_answers_match_the_documented_schemas(api: Api) -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    created = api.request("POST", FQDN_CONNECTIONS, json={"connection_name": "pbx"})
    connection_id = created.json()["data"]["id"]
    fqdn = api.request("POST", FQDNS, json={"connection_id": connection_id, "fqdn": "pbx.example.com",
                                            "dns_record_type": "a"})
    answers = [
        ("POST", FQDN_CONNECTIONS, created),
        ("POST", FQDN_CONNECTIONS, api.request("POST", FQDN_CONNECTIONS, json={})),
        ("GET", FQDN_CONNECTIONS, api.request("GET", FQDN_CONNECTIONS)),
        ("GET", FQDN_CONNECTIONS + "/{id}", api.request("GET", f"{FQDN_CONNECTIONS}/{connection_id}")),
        ("POST", FQDNS, fqdn),
        ("GET", FQDNS, api.request("GET", FQDNS)),
        ("PATCH", FQDNS + "/{id}", api.request("PATCH", f"{FQDNS}/{fqdn.json()['data']['id']}", json={"port": 1})),
        ("DELETE", FQDNS + "/{id}", api.request("DELETE", f"{FQDNS}/{fqdn.json()['data']['id']}")),
        ("GET", "/v2/connections", api.request("GET", "/v2/connections")),
        ("DELETE", FQDN_CONNECTIONS + "/{id}", api.request("DELETE", f"{FQDN_CONNECTIONS}/{connection_id}")),
    ]
    for method, template, response in answers:
        assert response.status_code < 500
        schema[template][method].validate_response(response)


def test_a_seed_holds_fqdn_connections_and_their_fqdns(api: Api) -> None:
    trunk = {"id": "51", "connection_name": "pbx", "outbound": {"outbound_voice_profile_id": "11"}}
    seed = {"data": [{"id": "11", "name": "seeded"}], "fqdn_connections": [trunk],
            "fqdns": [{"id": "61", "connection_id": "51", "fqdn": "pbx.example.com", "dns_record_type": "a"}]}
    loaded = api.request("POST", "/_ovp/admin/seed", json=seed)
    assert loaded.status_code == 200, loaded.text
    assert (loaded.json()["data"]["loaded_connections"], loaded.json()["data"]["loaded_fqdns"]) == (1, 1)
    assert api.request("GET", f"{FQDNS}/61").json()["data"]["port"] == 5060
    assert count_of(api, "11") == 1
    stray = {"id": "62", "connection_id": "99", "fqdn": "a.example.com", "dns_record_type": "a"}
    orphan = api.request("POST", "/_ovp/admin/seed", json={"fqdns": [stray]})
    assert orphan.status_code == 422
    assert orphan.json()["errors"][0]["source"] == {"pointer": "/fqdns/0/connection_id"}
    assert api.request("POST", "/_ovp/admin/reset").status_code == 200
    assert api.request("GET", FQDNS).json()["data"] == []
    assert api.request("GET", FQDN_CONNECTIONS).json()["data"] == []
