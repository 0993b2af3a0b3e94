"""An FQDN connection's authentication over HTTP, in-process: one truth with the connection (a change
either way shows both ways), its password masked as the connection's, every problem with its pointer,
404 for anything but one of the account's FQDN connections, If-Match on the connection's revision,
user names unique across kinds, and in seeds, the journal and resets."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis

from ovp.api.documents import openapi_document
from tests.api.test_connections_http import CONNECTIONS, UNKNOWN_ID, connect, errors
from tests.api.test_fqdn_connections_http import FQDN_CONNECTIONS, fqdn_connect
from tests.api.test_ip_connections_http import ip_connect
from tests.conftest import Api

ADMIN = "/_ovp/admin"
MASKED = "********"
CREDENTIALS = {"user_name": "pbx0001", "password": "s3cret-pass", "fqdn_outbound_authentication":
               "credential-authentication", "ip_authentication_method": "token"}


def authentication_of(connection_id: str) -> str:
    return f"{FQDN_CONNECTIONS}/{connection_id}/fqdn_authentication"


def patch(api: Api, connection_id: str, **fields: Any) -> dict[str, Any]:
    response = api.request("PATCH", authentication_of(connection_id), json=fields)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_a_new_connections_authentication_is_its_own_fields(api: Api) -> None:
    connection = fqdn_connect(api, microsoft_teams_sbc=True, webhook_event_url="https://example.com/hooks",
                              outbound={"ip_authentication_method": "ip-authentication"})
    response = api.request("GET", authentication_of(connection["id"]))
    assert response.status_code == 200, response.text
    assert response.json()["data"] == {
        "id": connection["id"], "record_type": "fqdn_authentication", "connection_id": connection["id"],
        "user_name": None, "password": None, "fqdn_outbound_authentication": "ip-authentication",
        "ip_authentication_method": None, "microsoft_teams_sbc": True, "txt_name": None, "txt_ttl": None,
        "txt_value": None, "webhook_url": "https://example.com/hooks", "failover_url": "",
    }
    assert response.headers["etag"] == api.request("GET", f"{FQDN_CONNECTIONS}/{connection['id']}").headers["etag"]


def test_a_patch_is_a_change_of_the_connection_and_the_reverse(api: Api) -> None:
    connection = fqdn_connect(api, outbound={"channel_limit": 4})
    path = f"{FQDN_CONNECTIONS}/{connection['id']}"
    response = api.request("PATCH", authentication_of(connection["id"]), json={
        **CREDENTIALS, "txt_name": "_teams", "txt_ttl": 3600, "txt_value": "v=ms1", "webhook_url": "https://a.example",
        "failover_url": "https://b.example"})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"2"'
    answered = response.json()["data"]
    assert answered["password"] == "s3cret-pass"  # in full: this PATCH changed it
    stored = api.request("GET", path).json()["data"]
    assert (stored["user_name"], stored["password"]) == ("pbx0001", MASKED)
    assert stored["outbound"]["ip_authentication_method"] == "credential-authentication"
    assert stored["outbound"]["channel_limit"] == 4  # merged, as the connection's own PATCH merges
    assert (stored["txt_name"], stored["txt_ttl"], stored["txt_value"]) == ("_teams", 3600, "v=ms1")
    assert (stored["webhook_event_url"], stored["webhook_event_failover_url"]) == ("https://a.example",
                                                                                   "https://b.example")
    assert "fqdn_authentication" not in stored  # what only the authentication has is answered there only
    assert api.request("GET", path).headers["etag"] == '"2"'  # the connection's revision moved
    read = api.request("GET", authentication_of(connection["id"])).json()["data"]
    assert read == {**answered, "password": MASKED}
    assert patch(api, connection["id"], txt_ttl=60)["password"] == MASKED  # unchanged: masked
    assert patch(api, connection["id"], password="s3cret-pass")["password"] == MASKED  # the same one
    assert patch(api, connection["id"], password="an0ther-pass")["password"] == "an0ther-pass"

    changed = api.request("PATCH", path, json={"microsoft_teams_sbc": True, "webhook_event_url": "https://c.example",
                                               "outbound": {"ip_authentication_method": "ip-authentication"}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["password"] == MASKED  # the connection's own PATCH never changes it
    read = api.request("GET", authentication_of(connection["id"])).json()["data"]
    assert (read["microsoft_teams_sbc"], read["webhook_url"], read["fqdn_outbound_authentication"]) == (
        True, "https://c.example", "ip-authentication")
    assert read["ip_authentication_method"] == "token"  # kept by the connection's PATCH

    cleared = patch(api, connection["id"], user_name=None, password=None, webhook_url=None)
    assert (cleared["user_name"], cleared["password"], cleared["webhook_url"]) == (None, None, None)
    stored = api.request("GET", path).json()["data"]
    assert (stored["user_name"], stored["password"], stored["webhook_event_url"]) == (None, None, None)


def test_every_problem_is_named_with_its_pointer_and_nothing_changes(api: Api) -> None:
    connection = fqdn_connect(api)
    path = authentication_of(connection["id"])
    before = api.request("GET", path)
    response = api.request("PATCH", path, json={
        "user_name": "ab", "password": "short", "fqdn_outbound_authentication": "token",
        "ip_authentication_method": "tech-prefix", "txt_name": 5, "txt_ttl": -1, "txt_value": "x" * 256,
        "webhook_url": "not a url", "failover_url": "ftp:/nowhere"})
    assert response.status_code == 422
    assert sorted(errors(response), key=lambda error: str(error[1])) == [
        ("10015", {"pointer": "/failover_url"}),
        ("10032", {"pointer": "/fqdn_outbound_authentication"}),
        ("10032", {"pointer": "/ip_authentication_method"}),
        ("10025", {"pointer": "/password"}),
        ("10026", {"pointer": "/txt_name"}),
        ("10033", {"pointer": "/txt_ttl"}),
        ("10025", {"pointer": "/txt_value"}),
        ("10015", {"pointer": "/user_name"}),
        ("10015", {"pointer": "/webhook_url"}),
    ]
    assert errors(api.request("PATCH", path, json=["user_name"])) == [("10026", {"pointer": ""})]
    assert api.request("PATCH", path, content=b"{", headers={"Content-Type": "application/json"}).status_code == 400
    after = api.request("GET", path)
    assert (after.json(), after.headers["etag"]) == (before.json(), before.headers["etag"])


@pytest.mark.parametrize("method", ["GET", "PATCH"])
def test_anything_but_one_of_the_accounts_fqdn_connections_is_404(api: Api, other_api: Api, method: str) -> None:
    for connection_id in (UNKNOWN_ID, "abc", connect(api)["id"], ip_connect(api)["id"], fqdn_connect(other_api)["id"]):
        response = api.request(method, authentication_of(connection_id), json={"txt_ttl": 1})
        assert response.status_code == 404, connection_id
        assert response.json()["errors"][0]["code"] == "10005"


def test_if_match_names_the_connections_revision(api: Api) -> None:
    connection = fqdn_connect(api)
    path = f"{FQDN_CONNECTIONS}/{connection['id']}"
    etag = api.request("GET", authentication_of(connection["id"])).headers["etag"]
    moved = api.request("PATCH", path, json={"active": False}, headers={"If-Match": etag})
    assert moved.status_code == 200, moved.text  # the authentication's ETag is the connection's
    late = api.request("PATCH", authentication_of(connection["id"]), json={"txt_ttl": 5}, headers={"If-Match": etag})
    assert late.status_code == 412
    assert late.json()["errors"][0]["title"] == "Precondition Failed"
    assert api.request("GET", authentication_of(connection["id"])).json()["data"]["txt_ttl"] is None
    current = api.request("PATCH", authentication_of(connection["id"]), json={"txt_ttl": 5},
                          headers={"If-Match": moved.headers["etag"]})
    assert current.status_code == 200, current.text
    assert current.headers["etag"] == api.request("GET", path).headers["etag"] == '"3"'


def test_a_user_name_is_one_connections_of_the_account_whatever_its_kind(api: Api, other_api: Api) -> None:
    credential = connect(api, user_name="trunk1")
    fqdn, other_fqdn = fqdn_connect(api), fqdn_connect(api)
    taken = api.request("PATCH", authentication_of(fqdn["id"]), json={"user_name": "TRUNK1"})
    assert errors(taken) == [("10015", {"pointer": "/user_name"})]
    patch(api, fqdn["id"], user_name="pbx0001", password="s3cret-pass")
    clash = api.request("POST", CONNECTIONS, json={"connection_name": "x", "user_name": "PBX0001",
                                                   "password": "s3cret-pass"})
    assert errors(clash) == [("10015", {"pointer": "/user_name"})]
    again = api.request("PATCH", authentication_of(other_fqdn["id"]), json={"user_name": "pbx0001"})
    assert errors(again) == [("10015", {"pointer": "/user_name"})]
    assert patch(api, fqdn["id"], user_name="pbx0001")["user_name"] == "pbx0001"  # its own name again
    patch(other_api, fqdn_connect(other_api)["id"], user_name="pbx0001")  # another account's are apart
    # A switch authenticates credential connections' callers only.
    realm = {"realm": "sip.example.com"}
    assert api.request("GET", "/ovp/sip_credentials/pbx0001", params=realm).status_code == 404
    assert api.request("GET", "/ovp/sip_credentials/trunk1", params=realm).status_code == 200
    patch(api, fqdn["id"], user_name=None)  # frees the name
    renamed = api.request("PATCH", f"{CONNECTIONS}/{credential['id']}", json={"user_name": "pbx0001"})
    assert renamed.status_code == 200, renamed.text


def test_a_seed_holds_the_authentication_and_a_reset_takes_it(api: Api) -> None:
    trunk = {"id": "51", "connection_name": "pbx", "outbound": {"channel_limit": 2},
             "fqdn_authentication": {**CREDENTIALS, "txt_ttl": 300}}
    loaded = api.request("POST", f"{ADMIN}/seed", json={"fqdn_connections": [trunk]})
    assert loaded.status_code == 200, loaded.text
    read = api.request("GET", authentication_of("51")).json()["data"]
    assert {field: read[field] for field in (*CREDENTIALS, "txt_ttl")} == {**CREDENTIALS, "password": MASKED,
                                                                          "txt_ttl": 300}
    assert api.request("GET", f"{FQDN_CONNECTIONS}/51").json()["data"]["outbound"]["channel_limit"] == 2
    bad = {**trunk, "id": "52", "connection_name": "", "fqdn_authentication": {"txt_ttl": "x", "user_name": "pbx0001"}}
    refused = api.request("POST", f"{ADMIN}/seed", json={"fqdn_connections": [bad]})
    assert refused.status_code == 422
    assert sorted(error["source"]["pointer"] for error in refused.json()["errors"]) == [
        "/fqdn_connections/0/connection_name", "/fqdn_connections/0/fqdn_authentication/txt_ttl"]
    clash = api.request("POST", f"{ADMIN}/seed", json={"fqdn_connections": [{**trunk, "id": "53"}]})
    assert errors(clash) == [("10015", {"pointer": "/fqdn_connections/0/user_name"})]
    assert api.request("POST", f"{ADMIN}/reset").status_code == 200
    assert api.request("GET", authentication_of("51")).status_code == 404


def test_the_journal_keeps_a_patch_and_what_it_ignored(api: Api) -> None:
    connection = fqdn_connect(api)
    response = api.request("PATCH", authentication_of(connection["id"]),
                           json={"txt_name": "_teams", "microsoft_teams_sbc": True})
    assert response.headers["ovp-ignored-fields"] == "microsoft_teams_sbc"  # set on the connection only
    assert response.json()["data"]["microsoft_teams_sbc"] is False
    last = api.request("GET", f"{ADMIN}/journal").json()["data"][-1]
    assert (last["method"], last["path"], last["status"]) == ("PATCH", authentication_of(connection["id"]), 200)
    assert (last["body"], last["ignored_fields"]) == ({"txt_name": "_teams", "microsoft_teams_sbc": True},
                                                      ["microsoft_teams_sbc"])


def test_answers_match_the_documented_schemas(api: Api) -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    template = FQDN_CONNECTIONS + "/{id}/fqdn_authentication"
    path = authentication_of(fqdn_connect(api)["id"])
    answers = [
        ("GET", api.request("GET", path)),
        ("PATCH", api.request("PATCH", path, json=CREDENTIALS)),
        ("PATCH", api.request("PATCH", path, json={"txt_ttl": -1})),
        ("PATCH", api.request("PATCH", path, json={}, headers={"If-Match": '"1"'})),
        ("GET", api.request("GET", authentication_of(UNKNOWN_ID))),
    ]
    assert [response.status_code for _method, response in answers] == [200, 200, 422, 412, 404]
    for method, response in answers:
        schema[template][method].validate_response(response)
