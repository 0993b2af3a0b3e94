"""SIP registrations: a switch reports the REGISTERs it accepted (/ovp/sip_registrations), and a
credential connection's registration status (Telnyx's check_registration_status) answers from them,
expiry read on ovp's clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.config import Settings
from ovp.domain.clock import CLOCK
from tests.api.test_auth_keys import make_key
from tests.conftest import Api, bearer

CONNECTIONS = "/v2/credential_connections"
REGISTRATIONS = "/ovp/sip_registrations"
CLOCK_PATH = "/_ovp/admin/clock"
CONTACT = "sip:pbxtrunk1@192.0.2.10:5062;transport=udp"
NOT_REGISTERED = {"status": "Not Registered", "ip_address": None, "port": None, "transport": None,
                  "user_agent": None, "last_registration": None}


@pytest.fixture
def frozen(api: Api) -> Iterator[Api]:
    """The account's api, with ovp's clock frozen at 2026-05-01T12:00:00Z; the wall clock again after."""
    assert api.request("POST", CLOCK_PATH, json={"now": "2026-05-01T12:00:00Z"}).status_code == 200
    yield api
    CLOCK.reset()


def advance(api: Api, seconds: float) -> None:
    assert api.request("POST", CLOCK_PATH, json={"advance_secs": seconds}).status_code == 200


def connection(api: Api, user_name: str = "pbxtrunk1") -> str:
    response = api.request("POST", CONNECTIONS, json={
        "connection_name": f"trunk {user_name}", "user_name": user_name, "password": "s3cret-passw0rd"})
    assert response.status_code == 201, response.text
    connection_id: str = response.json()["data"]["id"]
    return connection_id


def report(api: Api, **fields: Any) -> Any:
    body = {"user_name": "pbxtrunk1", "contact": CONTACT, "ip_address": "192.0.2.10", "port": 5062,
            "transport": "UDP", "user_agent": "Yealink SIP-T46S 66.86.0.15", "expires": 3600, **fields}
    return api.request("POST", REGISTRATIONS, json=body)


def reported(api: Api, **fields: Any) -> dict[str, Any]:
    response = report(api, **fields)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def status_response(api: Api, connection_id: str) -> Any:
    return api.request("POST", f"{CONNECTIONS}/{connection_id}/actions/check_registration_status")


def status(api: Api, connection_id: str) -> dict[str, Any]:
    response = status_response(api, connection_id)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def without_identity(data: dict[str, Any]) -> dict[str, Any]:
    assert data["record_type"] == "registration_status"
    return {key: value for key, value in data.items() if key not in ("record_type", "sip_username")}


def test_a_registration_the_switch_reports_makes_the_connection_registered(frozen: Api) -> None:
    connection_id = connection(frozen)
    assert status(frozen, connection_id) == {"record_type": "registration_status", "sip_username": "pbxtrunk1",
                                             **NOT_REGISTERED}
    # The user name as the phone sent it: names match in any case.
    assert reported(frozen, user_name="PBXTRUNK1") == {
        "record_type": "sip_registration", "connection_id": connection_id, "user_name": "pbxtrunk1",
        "contact": CONTACT, "ip_address": "192.0.2.10", "port": 5062, "transport": "UDP",
        "user_agent": "Yealink SIP-T46S 66.86.0.15", "expires": 3600,
        "registered_at": "2026-05-01T12:00:00.000Z", "expires_at": "2026-05-01T13:00:00.000Z",
    }
    assert status(frozen, connection_id) == {
        "record_type": "registration_status", "status": "Registered", "sip_username": "pbxtrunk1",
        "ip_address": "192.0.2.10", "port": 5062, "transport": "UDP", "user_agent": "Yealink SIP-T46S 66.86.0.15",
        "last_registration": "2026-05-01T12:00:00",  # to the second, with no offset, as Telnyx's example
    }


def test_a_binding_expires_by_ovp_s_clock_and_a_refresh_renews_it(frozen: Api) -> None:
    connection_id = connection(frozen)
    reported(frozen, expires=60)
    advance(frozen, 59.999)
    assert status(frozen, connection_id)["status"] == "Registered"
    advance(frozen, 0.001)
    expired = status(frozen, connection_id)
    # What the switch last said is still shown, as Telnyx's example of an Expired status shows it.
    assert without_identity(expired) == {"status": "Expired", "ip_address": "192.0.2.10", "port": 5062,
                                         "transport": "UDP", "user_agent": "Yealink SIP-T46S 66.86.0.15",
                                         "last_registration": "2026-05-01T12:00:00"}
    advance(frozen, 3600)
    refreshed = reported(frozen, expires=120, port=5064)
    assert (refreshed["registered_at"], refreshed["expires_at"]) == ("2026-05-01T13:01:00.000Z",
                                                                     "2026-05-01T13:03:00.000Z")
    again = status(frozen, connection_id)
    assert (again["status"], again["port"], again["last_registration"]) == ("Registered", 5064,
                                                                            "2026-05-01T13:01:00")


def test_a_removal_makes_it_not_registered(frozen: Api) -> None:
    connection_id = connection(frozen)
    reported(frozen)
    removed = reported(frozen, expires=0)
    assert (removed["expires"], removed["expires_at"]) == (0, removed["registered_at"])
    assert without_identity(status(frozen, connection_id)) == NOT_REGISTERED
    # Removed again, or a contact never bound: nothing changes, and the answer is the same.
    assert reported(frozen, expires=0, contact="sip:other@192.0.2.11")["expires"] == 0
    assert without_identity(status(frozen, connection_id)) == NOT_REGISTERED


def test_each_contact_is_a_binding_and_the_latest_answers(frozen: Api) -> None:
    connection_id = connection(frozen)
    reported(frozen, contact="sip:pbxtrunk1@192.0.2.10:5062", user_agent="desk phone")
    advance(frozen, 10)
    reported(frozen, contact="sip:pbxtrunk1@198.51.100.7:5060", ip_address="198.51.100.7", port=5060,
             transport="TLS", user_agent="softphone")
    latest = status(frozen, connection_id)
    assert (latest["user_agent"], latest["ip_address"], latest["transport"]) == ("softphone", "198.51.100.7", "TLS")
    # The softphone leaves: the desk phone, still bound, answers.
    reported(frozen, contact="sip:pbxtrunk1@198.51.100.7:5060", expires=0)
    assert status(frozen, connection_id)["user_agent"] == "desk phone"
    # `*` removes every contact of the connection.
    reported(frozen, contact="sip:pbxtrunk1@198.51.100.7:5060")
    reported(frozen, contact="*", expires=0)
    assert status(frozen, connection_id)["status"] == "Not Registered"


def test_a_contact_still_bound_answers_before_a_later_one_that_expired(frozen: Api) -> None:
    connection_id = connection(frozen)
    reported(frozen, contact="sip:pbxtrunk1@192.0.2.10:5062", user_agent="long", expires=3600)
    advance(frozen, 10)
    reported(frozen, contact="sip:pbxtrunk1@192.0.2.10:5064", user_agent="short", expires=30)
    assert status(frozen, connection_id)["user_agent"] == "short"
    advance(frozen, 30)
    assert (status(frozen, connection_id)["status"], status(frozen, connection_id)["user_agent"]) == (
        "Registered", "long")


def test_a_report_forgets_the_connection_s_expired_bindings(frozen: Api) -> None:
    connection_id = connection(frozen)
    reported(frozen, expires=60)
    advance(frozen, 61)
    assert status(frozen, connection_id)["status"] == "Expired"
    reported(frozen, contact="sip:pbxtrunk1@192.0.2.99", expires=0)  # the phone says it has gone
    assert without_identity(status(frozen, connection_id)) == NOT_REGISTERED


def test_a_connection_s_bindings_go_with_it(api: Api) -> None:
    connection_id = connection(api)
    reported(api)
    assert api.request("DELETE", f"{CONNECTIONS}/{connection_id}").status_code == 200
    assert status_response(api, connection_id).status_code == 404
    # A new connection of the same user name starts with none.
    assert status(api, connection(api))["status"] == "Not Registered"


def test_a_seed_that_replaces_a_connection_and_a_reset_drop_its_bindings(api: Api) -> None:
    seed = {"credential_connections": [{"id": "1293384261075731500", "connection_name": "Front desk",
                                        "user_name": "pbxtrunk1", "password": "s3cret-passw0rd"}]}
    for drop in ({"method": "POST", "path": "/_ovp/admin/seed", "json": seed},
                 {"method": "POST", "path": "/_ovp/admin/reset"}):
        assert api.request("POST", "/_ovp/admin/seed", json=seed).status_code == 200
        reported(api)
        assert status(api, "1293384261075731500")["status"] == "Registered"
        assert api.request(**drop).status_code == 200
        assert api.request("POST", "/_ovp/admin/seed", json=seed).status_code == 200
        assert status(api, "1293384261075731500")["status"] == "Not Registered"


def test_a_user_name_no_credential_connection_of_the_account_has_is_a_422(api: Api, other_api: Api) -> None:
    connection(api)
    ip_connection = api.request("POST", "/v2/ip_connections", json={"connection_name": "ip trunk"}).json()["data"]
    # An FQDN connection's user name is the account's too, but a switch does not register its phones.
    fqdn_connection = api.request("POST", "/v2/fqdn_connections", json={"connection_name": "fqdn trunk"}).json()["data"]
    named = api.request("PATCH", f"/v2/fqdn_connections/{fqdn_connection['id']}/fqdn_authentication",
                        json={"user_name": "fqdntrunk1", "password": "s3cret-pass"})
    assert named.status_code == 200, named.text
    for user_name in ("nosuchuser", "pbx trunk", "x" * 64, "fqdntrunk1"):
        response = report(api, user_name=user_name)
        assert response.status_code == 422
        assert response.json()["errors"] == [{
            "code": "10015", "title": "Bad Request", "source": {"pointer": "/user_name"},
            "detail": f"user_name: no credential connection of the account has the user name {user_name!r}.",
            "meta": {"url": "https://developers.telnyx.com/docs/overview/errors/10015"}}]
    # Another account's connection is not found, by either endpoint; nor is another kind's.
    assert report(other_api).status_code == 422
    connection_id = reported(api)["connection_id"]
    assert status_response(other_api, connection_id).status_code == 404
    for missing in (ip_connection["id"], fqdn_connection["id"], "1", "not-an-id"):
        response = status_response(api, missing)
        assert response.status_code == 404
        assert response.json()["errors"][0]["code"] == "10005"


@pytest.mark.parametrize(("fields", "code", "pointer"), [
    ({"contact": "*", "expires": 60}, "10015", "/contact"),
    ({"contact": "tel:+14155552671"}, "10015", "/contact"),
    ({"contact": "sip:a b@192.0.2.10"}, "10015", "/contact"),
    ({"contact": "sip:" + "a" * 509}, "10025", "/contact"),
    ({"contact": ""}, "10025", "/contact"),
    ({"ip_address": "192.0.2.300"}, "10015", "/ip_address"),
    ({"port": 0}, "10033", "/port"),
    ({"port": 65536}, "10033", "/port"),
    ({"port": "5060"}, "10026", "/port"),
    ({"transport": "udp"}, "10032", "/transport"),
    ({"user_agent": "phone\x00"}, "10015", "/user_agent"),
    ({"user_agent": "p" * 256}, "10025", "/user_agent"),
    ({"expires": -1}, "10033", "/expires"),
    ({"expires": 2**32}, "10033", "/expires"),
    ({"expires": 60.5}, "10026", "/expires"),
    ({"user_name": 7}, "10026", "/user_name"),
])
def test_each_bad_field_is_refused_at_its_pointer(api: Api, fields: dict[str, Any], code: str, pointer: str) -> None:
    connection(api)
    response = report(api, **fields)
    assert response.status_code == 422, response.text
    assert [(error["code"], error["source"]) for error in response.json()["errors"]] == [(code, {"pointer": pointer})]


def test_every_missing_field_is_named_and_a_body_must_be_a_json_object(api: Api) -> None:
    empty = api.request("POST", REGISTRATIONS, json={})
    assert empty.status_code == 422
    assert sorted((error["code"], error["source"]["pointer"]) for error in empty.json()["errors"]) == [
        ("10004", f"/{name}") for name in sorted(("user_name", "contact", "ip_address", "port", "transport",
                                                 "expires"))]
    listed = api.request("POST", REGISTRATIONS, json=[])
    assert (listed.status_code, listed.json()["errors"][0]["code"]) == (422, "10026")
    garbled = api.request("POST", REGISTRATIONS, content=b"{", headers={"Content-Type": "application/json"})
    assert (garbled.status_code, garbled.json()["errors"][0]["code"]) == (400, "10023")


def test_an_address_is_kept_canonical_the_user_agent_may_be_absent_and_unknown_fields_are_named(api: Api) -> None:
    connection_id = connection(api)
    body = {"user_name": "pbxtrunk1", "contact": "SIPS:pbxtrunk1@[2001:db8::1]:5061", "ip_address": "2001:DB8::0001",
            "port": 5061, "transport": "TLS", "expires": 300}
    response = api.request("POST", REGISTRATIONS, json=body)
    assert response.status_code == 200, response.text
    assert (response.json()["data"]["ip_address"], response.json()["data"]["user_agent"]) == ("2001:db8::1", None)
    shown = status(api, connection_id)
    assert (shown["ip_address"], shown["user_agent"], shown["transport"]) == ("2001:db8::1", None, "TLS")
    # A field ovp does not know is ignored, and named.
    assert report(api, q=0.8).headers["ovp-ignored-fields"] == "q"


@pytest.fixture
def keys_client(file_database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=file_database_url, auth="keys"))) as test_client:
        yield test_client


def test_in_keys_mode_only_the_account_s_keys_report_and_read(keys_client: TestClient, file_database_url: str) -> None:
    acme, globex = Api(keys_client, make_key(file_database_url, "acme")), \
        Api(keys_client, make_key(file_database_url, "globex"))
    connection_id = connection(acme)
    for path in (REGISTRATIONS, f"{CONNECTIONS}/{connection_id}/actions/check_registration_status"):
        refused = keys_client.post(path, json={}, headers=bearer("KEYnot-a-real-key"))
        assert (refused.status_code, refused.json()["errors"][0]["code"]) == (401, "10009")
    assert report(globex).status_code == 422
    assert reported(acme)["connection_id"] == connection_id
    assert status(acme, connection_id)["status"] == "Registered"
    assert status_response(globex, connection_id).status_code == 404
