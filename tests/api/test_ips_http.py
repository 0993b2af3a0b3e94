"""IPs over HTTP, in-process: every operation as Telnyx's `/v2/ips` answers it, addresses kept in
their canonical form and unique within an account, and an IP connection's IPs going with it."""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis

from ovp.api.documents import openapi_document
from tests.api.test_connections_http import UNKNOWN_ID, connect
from tests.api.test_ip_connections_http import IP_CONNECTIONS, ip_connect
from tests.conftest import Api

IPS = "/v2/ips"


def add_ip(api: Api, **fields: Any) -> dict[str, Any]:
    response = api.request("POST", IPS, json=fields)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_create_retrieve_update_delete(api: Api) -> None:
    connection = ip_connect(api)
    created = add_ip(api, ip_address="2001:DB8::0001", connection_id=connection["id"])
    assert str(uuid.UUID(created["id"])) == created["id"]
    assert (created["record_type"], created["ip_address"], created["port"], created["connection_id"]) == (
        "ip", "2001:db8::1", 5060, connection["id"])
    path = f"{IPS}/{created['id']}"
    assert api.request("GET", path).json()["data"] == created
    updated = api.request("PATCH", path, json={"ip_address": "192.0.2.10", "port": 5080})
    assert updated.status_code == 200, updated.text
    assert (updated.json()["data"]["ip_address"], updated.json()["data"]["port"]) == ("192.0.2.10", 5080)
    assert updated.json()["data"]["connection_id"] == connection["id"]  # kept
    assert api.request("PATCH", path, json={"port": 5061}).status_code == 422  # ip_address is required
    assert api.request("DELETE", path).json()["data"]["ip_address"] == "192.0.2.10"
    assert api.request("GET", path).status_code == 404


def test_bad_addresses_ports_and_connections_are_refused(api: Api, other_api: Api) -> None:
    response = api.request("POST", IPS, json={"ip_address": "300.1.1.1", "port": 70000, "connection_id": "x"})
    assert response.status_code == 422
    assert sorted(error["source"]["pointer"] for error in response.json()["errors"]) == [
        "/connection_id", "/ip_address", "/port"]
    credential = connect(api)
    for connection_id in (UNKNOWN_ID, credential["id"], ip_connect(other_api)["id"]):
        refused = api.request("POST", IPS, json={"ip_address": "192.0.2.1", "connection_id": connection_id})
        assert refused.status_code == 422, connection_id
        assert refused.json()["errors"][0]["source"] == {"pointer": "/connection_id"}


def test_an_address_and_port_belong_to_one_ip_of_an_account(api: Api, other_api: Api) -> None:
    first = add_ip(api, ip_address="192.0.2.1")
    taken = api.request("POST", IPS, json={"ip_address": "192.0.2.1", "port": 5060})
    assert taken.status_code == 422
    assert first["id"] in taken.json()["errors"][0]["detail"]
    add_ip(api, ip_address="192.0.2.1", port=5061)  # another port
    add_ip(other_api, ip_address="192.0.2.1")  # another account


def test_the_list_filters_by_connection_address_and_port(api: Api, other_api: Api) -> None:
    connection = ip_connect(api)
    mine = add_ip(api, ip_address="192.0.2.1", connection_id=connection["id"])
    other_port = add_ip(api, ip_address="192.0.2.1", port=5080)
    add_ip(api, ip_address="198.51.100.7")

    def listed(**params: str) -> list[str]:
        response = api.request("GET", IPS, params=params)
        assert response.status_code == 200, response.text
        return [ip["id"] for ip in response.json()["data"]]

    assert len(listed()) == 3
    assert listed(**{"filter[connection_id]": connection["id"]}) == [mine["id"]]
    assert listed(**{"filter[ip_address]": "192.0.2.1"}) == [other_port["id"], mine["id"]]
    assert listed(**{"filter[ip_address]": "192.0.2.1", "filter[port]": "5080"}) == [other_port["id"]]
    bad = api.request("GET", IPS, params={"filter[port]": "http", "filter[ip_address]": "nope",
                                          "filter[connection_id]": "x"})
    assert bad.status_code == 422
    assert sorted(error["source"]["parameter"] for error in bad.json()["errors"]) == [
        "filter[connection_id]", "filter[ip_address]", "filter[port]"]
    assert other_api.request("GET", IPS).json()["data"] == []
    assert other_api.request("GET", f"{IPS}/{mine['id']}").status_code == 404


def test_an_ip_connection_s_ips_go_with_it_and_seeds_hold_ips(api: Api) -> None:
    connection = ip_connect(api)
    ip = add_ip(api, ip_address="192.0.2.1", connection_id=connection["id"])
    assert api.request("DELETE", f"{IP_CONNECTIONS}/{connection['id']}").status_code == 200
    assert api.request("GET", f"{IPS}/{ip['id']}").status_code == 404

    ip_id = str(uuid.uuid4())
    seed = {"ip_connections": [{"id": "41", "connection_name": "pbx"}],
            "ips": [{"id": ip_id, "ip_address": "192.0.2.9", "connection_id": "41"}]}
    loaded = api.request("POST", "/_ovp/admin/seed", json=seed)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["data"]["loaded_ips"] == 1
    assert api.request("GET", f"{IPS}/{ip_id}").json()["data"]["connection_id"] == "41"
    another = {"id": str(uuid.uuid4()), "ip_address": "192.0.2.9"}
    clash = api.request("POST", "/_ovp/admin/seed", json={"ips": [another]})
    assert clash.status_code == 422
    assert clash.json()["errors"][0]["source"] == {"pointer": "/ips/0/ip_address"}
    assert api.request("POST", "/_ovp/admin/reset").status_code == 200
    assert api.request("GET", IPS).json()["data"] == []


def test_answers_match_the_documented_schemas(api: Api) -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    connection = ip_connect(api)
    created = api.request("POST", IPS, json={"ip_address": "192.0.2.1", "connection_id": connection["id"]})
    path = f"{IPS}/{created.json()['data']['id']}"
    answers = [
        ("POST", IPS, created),
        ("POST", IPS, api.request("POST", IPS, json={"ip_address": "x"})),
        ("GET", IPS, api.request("GET", IPS)),
        ("GET", IPS + "/{id}", api.request("GET", path)),
        ("PATCH", IPS + "/{id}", api.request("PATCH", path, json={"ip_address": "192.0.2.2"})),
        ("DELETE", IPS + "/{id}", api.request("DELETE", path)),
    ]
    for method, template, response in answers:
        assert response.status_code < 500
        schema[template][method].validate_response(response)


SOURCE = "/ovp/ip_connections/for_address"


def test_a_proxy_finds_the_ip_connection_of_a_call_by_its_source(api: Api, other_api: Api) -> None:
    profile = api.create()
    trunk = ip_connect(api, profile["id"])
    other_trunk = ip_connect(api, active=False)
    exact = add_ip(api, ip_address="192.0.2.1", port=5080, connection_id=trunk["id"])
    add_ip(api, ip_address="192.0.2.1", port=5090, connection_id=trunk["id"])
    add_ip(api, ip_address="2001:db8::5", connection_id=other_trunk["id"])

    def found(**params: str) -> dict[str, Any]:
        response = api.request("GET", SOURCE, params=params)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    shown = found(ip_address="192.0.2.1", port="5080")
    assert shown == {"record_type": "ip_connection_source", "ip_address": "192.0.2.1", "ip_id": exact["id"],
                     "port": 5080, "connection_id": trunk["id"], "active": True,
                     "outbound_voice_profile_id": profile["id"]}
    # Another port of an address that only one connection has: that connection.
    assert found(ip_address="192.0.2.1", port="40000")["connection_id"] == trunk["id"]
    assert found(ip_address="2001:DB8::0005")["active"] is False
    assert api.request("GET", SOURCE, params={"ip_address": "198.51.100.1"}).status_code == 404
    assert other_api.request("GET", SOURCE, params={"ip_address": "192.0.2.1"}).status_code == 404

    # An address two connections share, at neither's port: the address alone cannot tell.
    add_ip(api, ip_address="192.0.2.1", port=5100, connection_id=other_trunk["id"])
    assert api.request("GET", SOURCE, params={"ip_address": "192.0.2.1", "port": "40000"}).status_code == 404
    assert found(ip_address="192.0.2.1", port="5100")["connection_id"] == other_trunk["id"]
    # An IP of no connection is no connection's source.
    add_ip(api, ip_address="203.0.113.9")
    assert api.request("GET", SOURCE, params={"ip_address": "203.0.113.9"}).status_code == 404

    bad = api.request("GET", SOURCE, params={"port": "0"})
    assert bad.status_code == 422
    assert sorted(error["source"]["parameter"] for error in bad.json()["errors"]) == ["ip_address", "port"]


def test_a_port_in_digits_that_are_not_ascii_is_refused_not_an_error(api: Api) -> None:
    for path, name in ((IPS, "filter[port]"), (SOURCE, "port")):
        response = api.request("GET", path, params={name: "²", "ip_address": "192.0.2.1"})
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["source"] == {"parameter": name}
