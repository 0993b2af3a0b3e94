"""Call authorizations over HTTP, in-process: the decisions, ending calls, and the counters."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.config import Settings
from tests.conftest import Api

CALLS = "/ovp/call_authorizations"
DECK = "prefix,rate\n1,0.0100\n1415,0.0050\n44,0.0600\n55,0.0800\n61,0.2000\n"
US = "+14155552671"
US_OTHER = "+12125550100"
UK = "+442071838750"
BR = "+5511912345678"
AU = "+61291234567"
CALLER = "+12025550100"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def load_deck(api: Api, deck: str = DECK) -> None:
    response = api.request("PUT", "/ovp/rates", content=deck, headers={"Content-Type": "text/csv"})
    assert response.status_code == 200, response.text


def ask(api: Api, profile: dict[str, Any], to: str = US, caller: str = "+12025550100") -> dict[str, Any]:
    response = api.request("POST", CALLS, json={"outbound_voice_profile_id": profile["id"], "to": to, "from": caller})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def answer(api: Api, call_id: str) -> dict[str, Any]:
    response = api.request("POST", f"{CALLS}/{call_id}/actions/answer")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def end(api: Api, call_id: str, duration: int, *, answered: bool = True) -> dict[str, Any]:
    """Ends the call, answered first (as a switch confirms the answer of a call that was) unless
    `answered` is False."""
    if answered:
        answer(api, call_id)
    response = api.request("POST", f"{CALLS}/{call_id}/actions/end", json={"duration_secs": duration})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def usage(api: Api, profile: dict[str, Any]) -> dict[str, Any]:
    response = api.request("GET", f"/ovp/outbound_voice_profiles/{profile['id']}/usage")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


@pytest.fixture
def ready(api: Api) -> Api:
    load_deck(api)
    return api


def test_an_allowed_call_carries_its_destination_rate_and_recording(ready: Api) -> None:
    profile = ready.create(whitelisted_destinations=["US", "GB"])
    allowed = ask(ready, profile)
    assert allowed["decision"] == "allowed"
    assert allowed["record_type"] == "call_authorization"
    assert allowed["id"].isdigit()
    assert allowed["status"] == "ringing"  # until the switch confirms the answer
    assert (allowed["country_code"], allowed["prefix"], allowed["rate"], allowed["currency"]) == (
        "US", "1415", "0.0050", "USD")
    assert allowed["recording"] == {"record": False, "format": "wav", "channels": "single"}
    assert allowed["outbound_voice_profile_id"] == profile["id"]
    assert allowed["connection_id"] is None
    assert (allowed["to"], allowed["from"]) == (US, "+12025550100")
    assert TIMESTAMP.fullmatch(allowed["authorized_at"])
    authorized = datetime.fromisoformat(allowed["authorized_at"])
    assert datetime.fromisoformat(allowed["expires_at"]) - authorized == timedelta(seconds=120)  # the set-up timeout
    assert allowed["max_duration_secs"] == 4 * 3600  # what a switch sets its call timer to
    assert allowed["answered_at"] is None
    assert allowed["ended_at"] is None
    assert allowed["cost"] is None
    retrieved = ready.request("GET", f"{CALLS}/{allowed['id']}")
    assert retrieved.status_code == 200
    assert retrieved.json()["data"] == allowed


@pytest.mark.parametrize(
    ("fields", "to", "sip", "code", "reason"),
    [
        ({"enabled": False}, US, 403, "D15", "Outbound Profile is disabled"),
        ({}, "+1415555", 403, "D11", "Destination Number +1415555 is invalid"),
        ({}, BR, 403, "D13", "Dialed number +5511912345678 is not included in whitelisted countries: US, CA"),
        ({"whitelisted_destinations": ["FR"]}, "+33142685300", 403, "OVP2", "No rate for dialed number +33142685300"),
        ({"whitelisted_destinations": ["AU"], "max_destination_rate": 0.1}, AU, 403, "D24",
         "Maximum destination rate limit exceeded"),
    ],
)
def test_rejections_carry_the_sip_answer_and_the_reason(
    ready: Api, fields: dict[str, Any], to: str, sip: int, code: str, reason: str
) -> None:
    profile = ready.create(**{"whitelisted_destinations": ["US", "CA"], **fields})
    rejected = ask(ready, profile, to)
    countries = {US: "US", BR: "BR", AU: "AU", "+33142685300": "FR"}
    assert TIMESTAMP.fullmatch(rejected.pop("authorized_at"))
    assert rejected.pop("id").isdigit()
    assert rejected == {
        "record_type": "call_authorization", "decision": "rejected", "status": None, "sip_code": sip,
        "code": code, "reason": reason, "outbound_voice_profile_id": profile["id"], "connection_id": None,
        "billing_group_id": None, "to": to, "from": "+12025550100", "country_code": countries.get(to),
    }


def test_a_refusal_is_on_record_by_its_id(ready: Api) -> None:
    profile = ready.create(enabled=False)
    rejected = ask(ready, profile)
    retrieved = ready.request("GET", f"{CALLS}/{rejected['id']}")
    assert retrieved.status_code == 200
    assert retrieved.json()["data"] == rejected
    # A refused call never rang: there is nothing to answer or end.
    for action in ("answer", "end"):
        body = {"duration_secs": 0} if action == "end" else None
        assert ready.request("POST", f"{CALLS}/{rejected['id']}/actions/{action}", json=body).status_code == 404


def test_a_closed_calling_window_rejects(ready: Api) -> None:
    now = datetime.now(UTC)
    opens, closes = (now + timedelta(hours=2)).strftime("%H:%M:%S"), (now + timedelta(hours=3)).strftime("%H:%M:%S")
    profile = ready.create(calling_window={"start_time": opens, "end_time": closes})
    assert ask(ready, profile)["code"] == "OVP3"
    always = ready.create(calling_window={"start_time": (now - timedelta(hours=1)).strftime("%H:%M:%S"),
                                          "end_time": (now + timedelta(hours=1)).strftime("%H:%M:%S")})
    assert ask(ready, always)["decision"] == "allowed"


def test_the_concurrent_limit_frees_a_slot_when_a_call_ends(ready: Api) -> None:
    profile = ready.create(concurrent_call_limit=2)
    first, second = ask(ready, profile), ask(ready, profile)
    assert [first["decision"], second["decision"]] == ["allowed", "allowed"]
    third = ask(ready, profile)
    assert (third["code"], third["reason"], third["sip_code"]) == ("D2", "OB profile channel limit exceeded", 403)
    assert usage(ready, profile)["active_calls"] == 2
    end(ready, first["id"], 30)
    assert usage(ready, profile)["active_calls"] == 1
    assert ask(ready, profile)["decision"] == "allowed"


def test_ending_books_the_cost_once(ready: Api) -> None:
    profile = ready.create(whitelisted_destinations=["GB"], daily_spend_limit="0.20", daily_spend_limit_enabled=True)
    call = ask(ready, profile, UK)  # 0.06 a minute; its first minute is reserved while it lasts
    assert usage(ready, profile)["reserved"] == "0.060000"
    ended = end(ready, call["id"], 61)  # billed 120 s
    assert (ended["status"], ended["duration_secs"], ended["billed_secs"], ended["cost"]) == ("ended", 61, 120,
                                                                                             "0.120000")
    assert TIMESTAMP.fullmatch(ended["ended_at"])
    again = ready.request("POST", f"{CALLS}/{call['id']}/actions/end", json={"duration_secs": 3000})
    assert again.status_code == 200
    assert again.json()["data"] == ended  # the first end stands
    today = usage(ready, profile)
    assert (today["spent"], today["reserved"], today["active_calls"]) == ("0.120000", "0.000000", 0)
    assert today["day"] == datetime.now(UTC).date().isoformat()
    # 0.12 spent + 0.06 reserved fits in 0.20; one more first minute would not.
    assert ask(ready, profile, UK)["decision"] == "allowed"
    refused = ask(ready, profile, UK)
    assert (refused["code"], refused["reason"]) == ("OVP5", "Daily spend limit reached")


def test_a_call_whose_profile_was_deleted_ends_and_is_billed(ready: Api) -> None:
    profile = ready.create(whitelisted_destinations=["GB"])
    call = ask(ready, profile, UK)
    assert ready.request("DELETE", f"/v2/outbound_voice_profiles/{profile['id']}").status_code == 200
    ended = end(ready, call["id"], 61)
    assert (ended["status"], ended["billed_secs"], ended["cost"]) == ("ended", 120, "0.120000")


def test_a_call_that_never_connected_costs_nothing(ready: Api) -> None:
    profile = ready.create(whitelisted_destinations=["GB"])
    assert end(ready, ask(ready, profile, UK)["id"], 0)["cost"] == "0.000000"


def test_calls_per_number_counts_calls_to_each_number_in_the_window(ready: Api) -> None:
    profile = ready.create(calling_window={"calls_per_cld": 2})
    for _ in range(2):
        end(ready, ask(ready, profile, US)["id"], 10)  # ended calls still count
    refused = ask(ready, profile, US)
    assert (refused["code"], refused["reason"]) == ("OVP4", "Calls per dialled number limit reached")
    assert ask(ready, profile, US_OTHER)["decision"] == "allowed"


def connection(api: Api, profile: dict[str, Any] | None, name: str, **fields: Any) -> str:
    """A credential connection; `fields` are its own (`active`) and, under `outbound_`, its outbound's."""
    outbound = {key.removeprefix("outbound_"): value for key, value in fields.items() if key.startswith("outbound_")}
    body: dict[str, Any] = {"connection_name": name, "user_name": f"user{name}", "password": "secret-pass-1",
                            **{key: value for key, value in fields.items() if not key.startswith("outbound_")}}
    if profile is not None:
        outbound["outbound_voice_profile_id"] = profile["id"]
    if outbound:
        body["outbound"] = outbound
    response = api.request("POST", "/v2/credential_connections", json=body)
    assert response.status_code in (200, 201), response.text
    connection_id: str = response.json()["data"]["id"]
    return connection_id


def through(api: Api, connection_id: str, to: str = US, caller: str = CALLER) -> dict[str, Any]:
    response = api.request("POST", CALLS, json={"connection_id": connection_id, "to": to, "from": caller})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def test_a_call_through_a_connection_takes_the_connections_profile(ready: Api) -> None:
    profile = ready.create(concurrent_call_limit=1)
    through = connection(ready, profile, "trunk1")
    asked = ready.request("POST", CALLS, json={"connection_id": through, "to": US, "from": "+12025550100"})
    allowed = asked.json()["data"]
    assert (allowed["decision"], allowed["connection_id"], allowed["outbound_voice_profile_id"]) == (
        "allowed", through, profile["id"])
    # The connection's calls count against its profile's limits, as calls asked for by profile do.
    assert ask(ready, profile)["code"] == "D2"


def test_a_connection_without_a_profile_is_rejected_with_d38(ready: Api) -> None:
    bare = connection(ready, None, "trunk2")
    rejected = through(ready, bare)
    assert (rejected["decision"], rejected["sip_code"], rejected["code"], rejected["reason"]) == (
        "rejected", 403, "D38", "Connection has no Outbound Profile assigned")
    assert rejected["outbound_voice_profile_id"] is None
    assert rejected["connection_id"] == bare


@pytest.mark.parametrize(
    ("recording", "caller", "record"),
    [
        ({"call_recording_type": "all", "call_recording_format": "mp3", "call_recording_channels": "dual"},
         "+12025550100", True),
        ({"call_recording_type": "by_caller_phone_number", "call_recording_caller_phone_numbers": ["+12025550100"]},
         "+12025550100", True),
        ({"call_recording_type": "by_caller_phone_number", "call_recording_caller_phone_numbers": ["+12025550100"]},
         "+12025550199", False),
    ],
)
def test_the_recording_instruction_follows_call_recording(
    ready: Api, recording: dict[str, Any], caller: str, record: bool
) -> None:
    profile = ready.create(call_recording=recording)
    allowed = ask(ready, profile, caller=caller)
    assert allowed["recording"]["record"] is record
    assert allowed["recording"]["format"] == recording.get("call_recording_format", "wav")
    assert allowed["recording"]["channels"] == recording.get("call_recording_channels", "single")


@pytest.mark.parametrize(
    ("body", "pointers"),
    [
        ({"to": US, "from": "+12025550100"}, ["/connection_id"]),
        ({"connection_id": "1", "outbound_voice_profile_id": "2", "to": US, "from": CALLER}, ["/connection_id"]),
        ({"outbound_voice_profile_id": "1"}, ["/to", "/from"]),
        ({"outbound_voice_profile_id": 1, "to": 14155552671, "from": CALLER}, ["/outbound_voice_profile_id", "/to"]),
        ({"outbound_voice_profile_id": "123", "to": US, "from": "+12025550100"}, ["/outbound_voice_profile_id"]),
        ({"outbound_voice_profile_id": "abc", "to": US, "from": "+12025550100"}, ["/outbound_voice_profile_id"]),
        ({"connection_id": "123", "to": US, "from": "+12025550100"}, ["/connection_id"]),
        ({"outbound_voice_profile_id": "1", "to": "+1415\u0000", "from": "a\u0000b"}, ["/to", "/from"]),
    ],
)
def test_bad_requests_list_every_problem(ready: Api, body: dict[str, Any], pointers: list[str]) -> None:
    response = ready.request("POST", CALLS, json=body)
    assert response.status_code == 422
    assert [error["source"]["pointer"] for error in response.json()["errors"]] == pointers


def test_another_accounts_profile_and_calls_are_not_found(ready: Api, other_api: Api) -> None:
    profile = ready.create()
    call = ask(ready, profile)
    body = {"outbound_voice_profile_id": profile["id"], "to": US, "from": "+12025550100"}
    response = other_api.request("POST", CALLS, json=body)
    assert response.status_code == 422
    assert other_api.request("GET", f"{CALLS}/{call['id']}").status_code == 404
    assert other_api.request("POST", f"{CALLS}/{call['id']}/actions/end", json={"duration_secs": 1}).status_code == 404
    assert other_api.request("GET", f"/ovp/outbound_voice_profiles/{profile['id']}/usage").status_code == 404
    assert usage(ready, profile)["active_calls"] == 1


@pytest.mark.parametrize(
    "body", [{}, {"duration_secs": -1}, {"duration_secs": "60"}, {"duration_secs": 31 * 24 * 3600 + 1}]
)
def test_an_end_needs_a_duration(ready: Api, body: dict[str, Any]) -> None:
    call = ask(ready, ready.create())
    response = ready.request("POST", f"{CALLS}/{call['id']}/actions/end", json=body)
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"]["pointer"] == "/duration_secs"
    assert ready.request("GET", f"{CALLS}/{call['id']}").json()["data"]["status"] == "ringing"


def test_the_longest_call_allowed_is_billed(ready: Api) -> None:
    call = ask(ready, ready.create())
    ended = end(ready, call["id"], 31 * 24 * 3600)  # a month, in whole minutes
    assert (ended["billed_secs"], ended["cost"]) == (31 * 24 * 3600, "223.200000")


@pytest.mark.parametrize("path", [f"{CALLS}/0", f"{CALLS}/abc", f"{CALLS}/99999999999999999999"])
def test_unknown_authorizations_are_not_found(ready: Api, path: str) -> None:
    assert ready.request("GET", path).status_code == 404


@contextmanager
def served_with(database_url: str, **settings: Any) -> Iterator[Api]:
    """An account's client of an app with these settings, its deck loaded."""
    with TestClient(create_app(Settings(database_url=database_url, auth="open", **settings))) as client:
        api = Api(client, "account-a")
        load_deck(api)
        yield api


@pytest.fixture
def short_calls(database_url: str) -> Iterator[Api]:
    with served_with(database_url, max_call_duration=1, billing_increment="1/1") as api:
        yield api


def test_an_authorization_never_ended_expires_and_frees_its_slot(short_calls: Api) -> None:
    profile = short_calls.create(concurrent_call_limit=1)
    call = ask(short_calls, profile)
    assert call["billing_increment"] == "1/1"
    assert answer(short_calls, call["id"])["status"] == "active"
    assert ask(short_calls, profile)["code"] == "D2"
    time.sleep(1.1)
    assert short_calls.request("GET", f"{CALLS}/{call['id']}").json()["data"]["status"] == "expired"
    assert ask(short_calls, profile)["decision"] == "allowed"
    late = end(short_calls, call["id"], 7)  # a switch that reports late still books the call, by the second
    assert (late["status"], late["billed_secs"], late["cost"]) == ("ended", 7, "0.000583")


def test_an_inactive_connection_places_no_call_d18(ready: Api) -> None:
    inactive = connection(ready, ready.create(), "trunk3", active=False)
    rejected = through(ready, inactive)
    assert (rejected["decision"], rejected["sip_code"], rejected["code"], rejected["reason"]) == (
        "rejected", 404, "D18", "SIP connection is inactive")


def test_the_connections_channel_limit_is_enforced_d3(ready: Api) -> None:
    profile = ready.create(concurrent_call_limit=10)
    limited = connection(ready, profile, "trunk4", outbound_channel_limit=2)
    other = connection(ready, profile, "trunk5")
    first, second = through(ready, limited), through(ready, limited)
    assert [first["decision"], second["decision"]] == ["allowed", "allowed"]
    refused = through(ready, limited)
    assert (refused["sip_code"], refused["code"], refused["reason"]) == (403, "D3", "Connection channel limit exceeded")
    assert through(ready, other)["decision"] == "allowed"  # the limit is the connection's, not the profile's
    assert ask(ready, profile)["decision"] == "allowed"
    end(ready, first["id"], 0)
    assert through(ready, limited)["decision"] == "allowed"


def test_the_accounts_channel_limit_counts_every_profile_d1(ready: Api) -> None:
    assert ready.request("GET", "/ovp/account").json()["data"] == {"record_type": "account", "channel_limit": None}
    changed = ready.request("PATCH", "/ovp/account", json={"channel_limit": 2})
    assert changed.status_code == 200, changed.text
    assert changed.json()["data"] == {"record_type": "account", "channel_limit": 2}
    one, two = ready.create(name="one"), ready.create(name="two")
    trunk = connection(ready, two, "trunk6")
    first = ask(ready, one)
    assert through(ready, trunk)["decision"] == "allowed"
    for refused in (ask(ready, two), through(ready, trunk)):
        assert (refused["sip_code"], refused["code"], refused["reason"]) == (403, "D1", "User channel limit exceeded")
    end(ready, first["id"], 10)
    assert ask(ready, two)["decision"] == "allowed"
    assert ready.request("PATCH", "/ovp/account", json={"channel_limit": None}).json()["data"]["channel_limit"] is None
    assert ask(ready, one)["decision"] == "allowed"


def test_the_accounts_channel_limit_is_the_accounts_own(ready: Api, other_api: Api) -> None:
    ready.request("PATCH", "/ovp/account", json={"channel_limit": 0})
    assert ask(ready, ready.create())["code"] == "D1"
    assert other_api.request("GET", "/ovp/account").json()["data"]["channel_limit"] is None
    load_deck(other_api)
    assert ask(other_api, other_api.create())["decision"] == "allowed"


def test_a_patch_of_the_account_lists_every_problem(api: Api) -> None:
    for body, pointer in (({"channel_limit": -1}, "/channel_limit"), ({"channel_limit": "5"}, "/channel_limit"),
                          ({"channel_limit": 2**31}, "/channel_limit")):
        refused = api.request("PATCH", "/ovp/account", json=body)
        assert refused.status_code == 422, refused.text
        assert [error["source"]["pointer"] for error in refused.json()["errors"]] == [pointer]
    assert api.request("PATCH", "/ovp/account", json={}).json()["data"]["channel_limit"] is None  # nothing changed
    assert api.request("PATCH", "/ovp/account", json=[]).status_code == 422


@pytest.mark.parametrize("caller", ["", "pbxtrunk1", "12025550100", "+1 202 555 0100"])
def test_a_caller_id_that_is_not_e164_is_refused_d35(ready: Api, caller: str) -> None:
    refused = ask(ready, ready.create(), caller=caller)
    assert (refused["sip_code"], refused["code"], refused["reason"]) == (
        403, "D35", "Caller Origination Number is Invalid")
    assert refused["from"] == caller


def test_the_caller_id_override_is_the_caller_id_the_switch_presents(ready: Api) -> None:
    profile = ready.create()
    overridden = connection(ready, profile, "trunk7", outbound_ani_override="+13125550100")
    allowed = through(ready, overridden, caller="pbxtrunk7")  # a user name, which Telnyx would refuse D35
    assert (allowed["decision"], allowed["from"]) == ("allowed", "+13125550100")
    retrieved = ready.request("GET", f"{CALLS}/{allowed['id']}").json()["data"]
    assert retrieved["from"] == "+13125550100"
    normal = connection(ready, profile, "trunk8", outbound_ani_override="+13125550100",
                        outbound_ani_override_type="emergency")
    refused = through(ready, normal, caller="pbxtrunk8")  # not an emergency call: not overridden
    assert (refused["code"], refused["from"]) == ("D35", "pbxtrunk8")


def test_a_number_dialled_without_its_plus_is_read_by_the_connections_country(ready: Api) -> None:
    profile = ready.create(whitelisted_destinations=["US", "GB"])
    american = connection(ready, profile, "trunk9")  # localization: US, Telnyx's default
    british = connection(ready, profile, "trunk10", outbound_localization="GB")
    allowed = through(ready, american, to="4155552671")
    assert (allowed["decision"], allowed["to"], allowed["country_code"], allowed["rate"]) == (
        "allowed", US, "US", "0.0050")
    abroad = through(ready, american, to="011442071838750")
    assert (abroad["decision"], abroad["to"], abroad["rate"]) == ("allowed", "+442071838750", "0.0600")
    assert through(ready, british, to="02071838750")["to"] == "+442071838750"
    refused = through(ready, british, to="4155552671")  # not a British number
    assert (refused["code"], refused["reason"], refused["to"]) == (
        "D11", "Destination Number 4155552671 is invalid", "4155552671")
    assert ask(ready, profile, to="4155552671")["code"] == "D11"  # asked by profile: E.164 only


def test_a_seed_sets_the_accounts_channel_limit_and_a_reset_clears_it(api: Api) -> None:
    seeded = api.request("POST", "/_ovp/admin/seed", json={"account": {"channel_limit": 7}})
    assert seeded.status_code == 200, seeded.text
    assert api.request("GET", "/ovp/account").json()["data"]["channel_limit"] == 7
    bad = api.request("POST", "/_ovp/admin/seed", json={"account": {"channel_limit": "7"}, "data": []})
    assert bad.status_code == 422
    assert [error["source"]["pointer"] for error in bad.json()["errors"]] == ["/account/channel_limit"]
    assert api.request("POST", "/_ovp/admin/reset").status_code == 200
    assert api.request("GET", "/ovp/account").json()["data"]["channel_limit"] is None


def test_an_answered_call_holds_its_slot_for_its_maximum_duration_from_the_answer(ready: Api) -> None:
    profile = ready.create(concurrent_call_limit=1)
    call = ask(ready, profile)
    answered = answer(ready, call["id"])
    assert answered["status"] == "active"
    at = datetime.fromisoformat(answered["answered_at"])
    assert datetime.fromisoformat(answered["expires_at"]) - at == timedelta(hours=4)
    assert answer(ready, call["id"]) == ready.request("GET", f"{CALLS}/{call['id']}").json()["data"]  # once
    assert ask(ready, profile)["code"] == "D2"
    assert ready.request("POST", f"{CALLS}/0/actions/answer").status_code == 404


def test_a_call_ended_before_it_was_answered_is_billed_nothing(ready: Api) -> None:
    profile = ready.create(concurrent_call_limit=1)
    call = ask(ready, profile)
    ended = end(ready, call["id"], 30, answered=False)  # a switch that gives a duration all the same
    assert (ended["status"], ended["answered_at"], ended["billed_secs"], ended["cost"]) == (
        "ended", None, 0, "0.000000")
    assert usage(ready, profile)["spent"] == "0.000000"
    assert ask(ready, profile)["decision"] == "allowed"  # its slot is free
    assert answer(ready, call["id"])["status"] == "ended"  # an answer after the end changes nothing


@pytest.fixture
def quick_setup(database_url: str) -> Iterator[Api]:
    with served_with(database_url, setup_timeout=1) as api:
        yield api


def test_a_call_never_answered_lets_go_of_its_slot_after_the_setup_timeout(quick_setup: Api) -> None:
    profile = quick_setup.create(concurrent_call_limit=1)
    ringing = ask(quick_setup, profile)
    assert ask(quick_setup, profile)["code"] == "D2"
    time.sleep(1.1)
    assert quick_setup.request("GET", f"{CALLS}/{ringing['id']}").json()["data"]["status"] == "expired"
    assert ask(quick_setup, profile)["decision"] == "allowed"
    late = quick_setup.request("POST", f"{CALLS}/{ringing['id']}/actions/answer")
    assert late.status_code == 422, late.text
    assert "set-up timed out" in late.json()["errors"][0]["detail"]
