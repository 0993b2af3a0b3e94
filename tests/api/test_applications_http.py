"""Call Control and TeXML applications over HTTP, in-process: Telnyx's defaults and rules, their
list parameters, their place among the account's connections (`/v2/connections`, its count, a
profile's connections_count and its delete), calls authorized through them, seeds and reset."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis

from ovp.api.documents import openapi_document
from tests.api.test_calls_http import load_deck, through
from tests.api.test_connections_http import UNKNOWN_ID, connect, count_of
from tests.api.test_fqdn_connections_http import fqdn_connect
from tests.api.test_ip_connections_http import ip_connect
from tests.conftest import PROFILES, Api
from tests.webhook_receiver import Receiver, start_receiver

CALL_CONTROL = "/v2/call_control_applications"
TEXML = "/v2/texml_applications"
HOOK = "https://example.com/hooks"


def created(api: Api, path: str, body: dict[str, Any], profile_id: str | None) -> dict[str, Any]:
    """Creates the application `body` at `path` (attached to `profile_id` when given) and answers it."""
    if profile_id is not None:
        body["outbound"] = {**body.get("outbound", {}), "outbound_voice_profile_id": profile_id}
    response = api.request("POST", path, json=body)
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def call_control(api: Api, profile_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return created(api, CALL_CONTROL, {"application_name": "ivr", "webhook_event_url": HOOK, **fields}, profile_id)


def texml(api: Api, profile_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return created(api, TEXML, {"friendly_name": "voice app", "voice_url": "https://example.com/voice.xml",
                                **fields}, profile_id)


def pointers(response: Any) -> list[str]:
    return sorted(error["source"]["pointer"] for error in response.json()["errors"])


def test_a_call_control_application_has_telnyx_defaults_and_keeps_what_it_is_sent(api: Api) -> None:
    created = call_control(api, webhook_timeout_secs=5, inbound={"channel_limit": 4}, tags=["ivr"])
    assert created["record_type"] == "call_control_application"
    assert (created["active"], created["anchorsite_override"], created["dtmf_type"]) == (True, "Latency", "RFC 2833")
    assert (created["first_command_timeout"], created["first_command_timeout_secs"]) == (False, 30)
    assert (created["webhook_api_version"], created["webhook_event_failover_url"]) == ("1", "")
    assert created["inbound"] == {"channel_limit": 4, "shaken_stir_enabled": False, "sip_subdomain": None,
                                  "sip_subdomain_receive_settings": "from_anyone"}
    assert created["outbound"] == {"channel_limit": None, "outbound_voice_profile_id": None}
    assert (created["webhook_timeout_secs"], created["tags"], created["redact_dtmf_debug_logging"]) == (5, ["ivr"],
                                                                                                      False)
    path = f"{CALL_CONTROL}/{created['id']}"
    assert api.request("GET", path).json()["data"] == created
    changed = api.request("PATCH", path, json={"application_name": "renamed", "inbound": {"shaken_stir_enabled": True}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"]["inbound"]["channel_limit"] == 4  # nested objects merge
    assert changed.json()["data"]["inbound"]["shaken_stir_enabled"] is True
    assert api.request("DELETE", path).json()["data"]["application_name"] == "renamed"
    assert api.request("GET", path).status_code == 404


def test_every_problem_of_a_body_is_named_with_its_pointer(api: Api) -> None:
    assert pointers(api.request("POST", CALL_CONTROL, json={})) == ["/application_name", "/webhook_event_url"]
    bad = api.request("POST", CALL_CONTROL, json={
        "application_name": "x", "webhook_event_url": "not a url", "anchorsite_override": "Vancouver, Canada",
        "webhook_timeout_secs": 31, "outbound": {"outbound_voice_profile_id": "abc", "channel_limit": -1}})
    assert bad.status_code == 422
    assert pointers(bad) == ["/anchorsite_override", "/outbound/channel_limit", "/outbound/outbound_voice_profile_id",
                             "/webhook_event_url", "/webhook_timeout_secs"]
    assert pointers(api.request("POST", TEXML, json={"voice_method": "put"})) == [
        "/friendly_name", "/voice_method", "/voice_url"]
    unknown = api.request("POST", TEXML, json={"friendly_name": "app", "voice_url": "https://example.com/v",
                                               "outbound": {"outbound_voice_profile_id": UNKNOWN_ID}})
    assert unknown.status_code == 422
    assert pointers(unknown) == ["/outbound/outbound_voice_profile_id"]


def test_a_texml_application_has_telnyx_defaults(api: Api) -> None:
    created = texml(api, status_callback="https://example.com/status")
    assert created["record_type"] == "texml_application"
    assert (created["voice_method"], created["status_callback_method"]) == ("post", "post")
    assert (created["voice_fallback_url"], created["status_callback"]) == (None, "https://example.com/status")
    assert created["anchorsite_override"] == "Latency"
    path = f"{TEXML}/{created['id']}"
    moved = api.request("PATCH", path, json={"voice_method": "get", "active": False})
    assert (moved.json()["data"]["voice_method"], moved.json()["data"]["active"]) == ("get", False)
    assert api.request("GET", f"{CALL_CONTROL}/{created['id']}").status_code == 404  # another kind


def test_lists_filter_sort_and_page_by_each_kinds_own_parameters(api: Api, other_api: Api) -> None:
    profile = api.create()
    first = call_control(api, profile["id"], application_name="Alpha desk")
    second = call_control(api, application_name="beta desk")
    call_control(other_api)
    texml(api, profile["id"], friendly_name="Zulu line")
    names = [app["application_name"] for app in api.request("GET", CALL_CONTROL,
                                                            params={"sort": "connection_name"}).json()["data"]]
    assert names == ["Alpha desk", "beta desk"]
    found = api.request("GET", CALL_CONTROL, params={"filter[application_name][contains]": "ALPHA"}).json()
    assert ([app["id"] for app in found["data"]], found["meta"]["total_results"]) == ([first["id"]], 1)
    by_profile = api.request("GET", CALL_CONTROL, params={"filter[outbound.outbound_voice_profile_id]": profile["id"]})
    assert [app["id"] for app in by_profile.json()["data"]] == [first["id"]]
    paged = api.request("GET", CALL_CONTROL, params={"page[size]": "1", "page[number]": "2", "sort": "-created_at"})
    assert [app["id"] for app in paged.json()["data"]] == [first["id"]]
    assert paged.json()["meta"] == {"page_number": 2, "page_size": 1, "total_pages": 2, "total_results": 2}
    assert second["id"] not in [app["id"] for app in by_profile.json()["data"]]
    texml_found = api.request("GET", TEXML, params={"filter[friendly_name]": "zul",
                                                    "filter[outbound_voice_profile_id]": profile["id"],
                                                    "sort": "-friendly_name"}).json()["data"]
    assert [app["friendly_name"] for app in texml_found] == ["Zulu line"]
    wrong = api.request("GET", TEXML, params={"sort": "connection_name", "filter[friendly_name]": "ab"})
    assert sorted(error["source"]["parameter"] for error in wrong.json()["errors"]) == [
        "filter[friendly_name]", "sort"]


def test_applications_are_connections_of_their_profile(api: Api) -> None:
    profile = api.create()
    ivr, voice = call_control(api, profile["id"]), texml(api, profile["id"])
    sip = connect(api, profile["id"])
    assert count_of(api, profile["id"]) == 3
    listed = api.request("GET", "/v2/connections", params={"sort": "connection_name"}).json()["data"]
    assert {(each["record_type"], each["connection_name"]) for each in listed} == {
        ("call_control_application", "ivr"), ("texml_application", "voice app"), ("credential_connection", "office")}
    shown = api.request("GET", f"/v2/connections/{voice['id']}").json()["data"]
    assert (shown["outbound_voice_profile_id"], shown["webhook_event_url"]) == (profile["id"], None)
    for path, app in ((CALL_CONTROL, ivr), (TEXML, voice), ("/v2/credential_connections", sip)):
        refused = api.request("DELETE", f"{PROFILES}/{profile['id']}")
        assert refused.json()["errors"][0]["code"] == "10021"
        assert api.request("DELETE", f"{path}/{app['id']}").status_code == 200
    assert api.request("DELETE", f"{PROFILES}/{profile['id']}").status_code == 200


def test_connections_count_counts_each_kind_of_the_accounts_own(api: Api, other_api: Api) -> None:
    empty = api.request("GET", "/v2/connections/count")
    assert empty.status_code == 200, empty.text
    assert set(empty.json()["data"]["counts"].values()) == {0}
    call_control(api), call_control(api), texml(api), connect(api), ip_connect(api), fqdn_connect(api)
    call_control(other_api)
    data = api.request("GET", "/v2/connections/count").json()["data"]
    assert {name: count for name, count in data["counts"].items() if count} == {
        "call_control_applications": 2, "texml_applications": 1, "credential_connections": 1,
        "ip_connections": 1, "fqdn_connections": 1}
    assert data["limits"] == {"global_limit": 2**31 - 1}
    assert data["record_type"] == "connections_count"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.close()


def test_calls_through_an_application_are_decided_by_its_limits_and_send_its_events(api: Api,
                                                                                     receiver: Receiver) -> None:
    load_deck(api)
    profile = api.create()
    ivr = call_control(api, profile["id"], webhook_event_url=receiver.url, outbound={"channel_limit": 1})
    allowed = through(api, ivr["id"])
    assert (allowed["decision"], allowed["outbound_voice_profile_id"]) == ("allowed", profile["id"])
    refused = through(api, ivr["id"])
    assert (refused["decision"], refused["code"]) == ("rejected", "D3")  # the application's channel limit
    events = [json.loads(received.body)["data"] for received in receiver.wait_for(2)]
    by_type = {event["event_type"]: event["payload"] for event in events}  # two calls: in either order
    assert sorted(by_type) == ["call.hangup", "call.initiated"]
    assert by_type["call.hangup"]["hangup_cause"] == "call_rejected"
    assert {event["payload"]["connection_id"] for event in events} == {ivr["id"]}
    voice = texml(api, profile["id"], active=False)
    inactive = through(api, voice["id"])
    assert (inactive["decision"], inactive["code"]) == ("rejected", "D18")


def test_a_seed_holds_applications_and_reset_removes_them(api: Api) -> None:
    seed = {"data": [{"id": "11", "name": "seeded"}],
            "call_control_applications": [{"id": "71", "application_name": "ivr", "webhook_event_url": HOOK,
                                           "outbound": {"outbound_voice_profile_id": "11"}}],
            "texml_applications": [{"id": "72", "friendly_name": "app", "voice_url": HOOK}]}
    loaded = api.request("POST", "/_ovp/admin/seed", json=seed)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["data"]["loaded_connections"] == 2
    assert api.request("GET", f"{CALL_CONTROL}/71").json()["data"]["first_command_timeout_secs"] == 30
    assert api.request("GET", f"{TEXML}/72").json()["data"]["voice_method"] == "post"
    assert count_of(api, "11") == 1
    bad = api.request("POST", "/_ovp/admin/seed", json={"texml_applications": [{"id": "73", "friendly_name": "x"}]})
    assert bad.status_code == 422
    assert pointers(bad) == ["/texml_applications/0/voice_url"]
    assert api.request("POST", "/_ovp/admin/reset").status_code == 200
    assert api.request("GET", CALL_CONTROL).json()["data"] == []
    assert api.request("GET", TEXML).json()["data"] == []


def test_answers_match_the_documented_schemas(api: Api) -> None:
    schema = schemathesis.openapi.from_dict(openapi_document())
    ivr, voice = call_control(api), texml(api)
    answers = []
    for path, app, change in ((CALL_CONTROL, ivr, {"active": False}), (TEXML, voice, {"voice_method": "get"})):
        answers += [
            ("POST", path, api.request("POST", path, json={})),
            ("GET", path, api.request("GET", path)),
            ("GET", path + "/{id}", api.request("GET", f"{path}/{app['id']}")),
            ("PATCH", path + "/{id}", api.request("PATCH", f"{path}/{app['id']}", json=change)),
            ("DELETE", path + "/{id}", api.request("DELETE", f"{path}/{app['id']}")),
        ]
    answers.append(("GET", "/v2/connections/count", api.request("GET", "/v2/connections/count")))
    for method, template, response in answers:
        assert response.status_code < 500
        schema[template][method].validate_response(response)
