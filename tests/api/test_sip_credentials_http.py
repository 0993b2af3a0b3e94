"""What a SIP proxy reads to authenticate callers (/ovp/sip_credentials), and the unique user names
that make a caller's connection one and only one."""

from __future__ import annotations

import hashlib
from typing import Any

from tests.conftest import Api

CONNECTIONS = "/v2/credential_connections"
CREDENTIALS = "/ovp/sip_credentials"
SEED = "/_ovp/admin/seed"


def connect(api: Api, user_name: str, **fields: Any) -> Any:
    body = {"connection_name": f"trunk {user_name}", "user_name": user_name, "password": "s3cret-passw0rd", **fields}
    return api.request("POST", CONNECTIONS, json=body)


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - SIP digest's own hash


def test_a_proxy_gets_the_connection_and_ha1_never_the_password(api: Api) -> None:
    profile = api.create(name="pbx")
    created = connect(api, "pbxtrunk1", outbound={"outbound_voice_profile_id": profile["id"]}).json()["data"]
    response = api.request("GET", f"{CREDENTIALS}/pbxtrunk1", params={"realm": "sip.example.com"})
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {
        "record_type": "sip_credential", "user_name": "pbxtrunk1", "realm": "sip.example.com",
        "ha1": md5("pbxtrunk1:sip.example.com:s3cret-passw0rd"), "connection_id": created["id"], "active": True,
        "outbound_voice_profile_id": profile["id"],
    }}
    assert "s3cret-passw0rd" not in response.text


def test_user_names_match_in_any_case_and_ha1_is_over_the_name_as_sent(api: Api) -> None:
    connect(api, "PbxTrunk2")
    found = api.request("GET", f"{CREDENTIALS}/PBXTRUNK2", params={"realm": "ovp"}).json()["data"]
    assert found["user_name"] == "PbxTrunk2"
    assert found["ha1"] == md5("PBXTRUNK2:ovp:s3cret-passw0rd")


def test_a_changed_password_or_name_is_what_the_proxy_reads_next(api: Api) -> None:
    connection_id = connect(api, "pbxtrunk3").json()["data"]["id"]
    api.request("PATCH", f"{CONNECTIONS}/{connection_id}", json={"user_name": "renamed3", "password": "n3w-passw0rd"})
    assert api.request("GET", f"{CREDENTIALS}/pbxtrunk3", params={"realm": "ovp"}).status_code == 404
    found = api.request("GET", f"{CREDENTIALS}/renamed3", params={"realm": "ovp"}).json()["data"]
    assert found["ha1"] == md5("renamed3:ovp:n3w-passw0rd")
    api.request("PATCH", f"{CONNECTIONS}/{connection_id}", json={"active": False})
    assert api.request("GET", f"{CREDENTIALS}/renamed3", params={"realm": "ovp"}).json()["data"]["active"] is False
    api.request("DELETE", f"{CONNECTIONS}/{connection_id}")
    assert api.request("GET", f"{CREDENTIALS}/renamed3", params={"realm": "ovp"}).status_code == 404


def test_only_the_accounts_own_keys_read_its_credentials(api: Api, other_api: Api) -> None:
    connect(api, "pbxtrunk4")
    response = other_api.request("GET", f"{CREDENTIALS}/pbxtrunk4", params={"realm": "ovp"})
    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "10005"
    assert api.client.get(f"{CREDENTIALS}/pbxtrunk4", params={"realm": "ovp"}).status_code == 401


def test_the_realm_is_required_and_checked(api: Api) -> None:
    connect(api, "pbxtrunk5")
    missing = api.request("GET", f"{CREDENTIALS}/pbxtrunk5")
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["code"] == "10004"
    assert missing.json()["errors"][0]["source"] == {"parameter": "realm"}
    quoted = api.request("GET", f"{CREDENTIALS}/pbxtrunk5", params={"realm": 'a"b'})
    assert (quoted.status_code, quoted.json()["errors"][0]["source"]) == (422, {"parameter": "realm"})


def test_what_cannot_be_a_user_name_is_not_found(api: Api) -> None:
    for asked in ("ab", "x" * 33, "a%00bcd", "bad-name", "a%2Fbcde"):
        response = api.request("GET", f"{CREDENTIALS}/{asked}", params={"realm": "ovp"})
        assert response.status_code == 404, asked


def test_a_user_name_is_the_accounts_once_in_any_case(api: Api, other_api: Api) -> None:
    first = connect(api, "deskphone1").json()["data"]
    taken = connect(api, "DESKPHONE1")
    assert taken.status_code == 422
    error = taken.json()["errors"][0]
    assert (error["code"], error["source"]) == ("10015", {"pointer": "/user_name"})
    assert first["id"] in error["detail"]
    assert connect(other_api, "deskphone1").status_code == 201  # another account's names are its own
    second = connect(api, "deskphone2").json()["data"]
    renamed = api.request("PATCH", f"{CONNECTIONS}/{second['id']}", json={"user_name": "DeskPhone1"})
    assert renamed.status_code == 422
    assert renamed.json()["errors"][0]["source"] == {"pointer": "/user_name"}
    # A connection keeps its own name through other changes, and may change its case.
    assert api.request("PATCH", f"{CONNECTIONS}/{first['id']}", json={"user_name": "DeskPhone1"}).status_code == 200
    assert api.request("PATCH", f"{CONNECTIONS}/{first['id']}", json={"connection_name": "x"}).status_code == 200
    api.request("DELETE", f"{CONNECTIONS}/{first['id']}")
    assert connect(api, "deskphone1").status_code == 201  # free again


def test_a_seed_may_trade_user_names_but_never_share_one(api: Api) -> None:
    def seeded(*connections: tuple[str, str]) -> dict[str, Any]:
        return {"credential_connections": [
            {"id": connection_id, "connection_name": f"c{connection_id}", "user_name": user_name,
             "password": "s3cret-passw0rd"} for connection_id, user_name in connections]}

    assert api.request("POST", SEED, json=seeded(("41", "alpha41"), ("42", "bravo42"))).status_code == 200
    traded = api.request("POST", SEED, json=seeded(("41", "bravo42"), ("42", "alpha41")))
    assert traded.status_code == 200, traded.text
    assert api.request("GET", f"{CREDENTIALS}/alpha41", params={"realm": "r"}).json()["data"]["connection_id"] == "42"
    shared = api.request("POST", SEED, json=seeded(("43", "charlie43"), ("44", "CHARLIE43")))
    assert shared.status_code == 422
    assert [e["source"]["pointer"] for e in shared.json()["errors"]] == ["/credential_connections/1/user_name"]
    clash = api.request("POST", SEED, json=seeded(("45", "alpha41")))  # connection 42 keeps it
    assert [e["source"]["pointer"] for e in clash.json()["errors"]] == ["/credential_connections/0/user_name"]
    assert api.request("GET", f"{CONNECTIONS}/43").status_code == 404  # nothing of a refused seed is stored
