"""GET /v2/detail_records over HTTP on both backends: the account's finished calls and refusals as
Telnyx's sip-trunking detail records, their filters, sorts and pages, other record types, and every
bad parameter named. The records are made on a frozen clock, so that their times are known."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ovp.api.documents import openapi_document
from ovp.domain.clock import CLOCK
from tests.api.test_calls_http import BR, CALLS, UK, US, ask, connection, load_deck, through
from tests.conftest import Api

RECORDS = "/v2/detail_records"
CLOCK_PATH = "/_ovp/admin/clock"
SIP = {"filter[record_type]": "sip-trunking"}
START = "2026-03-10T10:00:00.000Z"  # a Tuesday


def at(api: Api, **body: object) -> None:
    response = api.request("POST", CLOCK_PATH, json=body)
    assert response.status_code == 200, response.text


def post(api: Api, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    response = api.request("POST", path, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def listed(api: Api, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = api.request("GET", RECORDS, params={**SIP, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    return body["data"], body["meta"]


def leg(record: dict[str, Any]) -> str:
    """The detail record's id of a call record (its call_leg_id)."""
    return str(uuid.UUID(int=int(record["id"])))


@pytest.fixture
def history(api: Api) -> Iterator[dict[str, Any]]:
    """Five decisions of the account, made on a frozen clock, oldest first:

    - `yesterday`: at 2026-03-09T23:59:59Z, a refusal by D15 (a disabled profile);
    - `ended`: at START, a call answered 5 s later and ended 61 s after that (billed 120 s at 0.005);
    - `expired`: at START + 100 s, a call to London that rang until its set-up timed out (120 s);
    - `refused`: at START + 110 s, a refusal by D13 through a connection;
    - `active`: at START + 120 s, a call answered and still in progress.

    The clock is then left at START + 300 s."""
    load_deck(api)
    group = post(api, "/v2/billing_groups", {"name": "sales"})
    profile = api.create(name="limited", billing_group_id=group["id"], whitelisted_destinations=["US", "GB"])
    disabled = api.create(name="disabled", enabled=False)
    trunk = connection(api, profile, "trunk")
    at(api, now="2026-03-09T23:59:59Z")
    yesterday = ask(api, disabled)
    at(api, now=START)
    ended = ask(api, profile)
    at(api, advance_secs=5)
    post(api, f"{CALLS}/{ended['id']}/actions/answer")
    at(api, advance_secs=61)
    ended = post(api, f"{CALLS}/{ended['id']}/actions/end", {"duration_secs": 61})
    at(api, advance_secs=34)
    expired = ask(api, profile, UK)
    at(api, advance_secs=10)
    refused = through(api, trunk, BR)
    at(api, advance_secs=10)
    active = ask(api, profile)
    post(api, f"{CALLS}/{active['id']}/actions/answer")
    at(api, now="2026-03-10T10:05:00Z")
    assert [yesterday["code"], refused["code"]] == ["D15", "D13"]
    assert [ended["decision"], expired["decision"], active["decision"]] == ["allowed"] * 3
    yield {"group": group, "profile": profile, "disabled": disabled, "trunk": trunk, "yesterday": yesterday,
           "ended": ended, "expired": expired, "refused": refused, "active": active}
    CLOCK.reset()  # the process's clock: the next test starts on the wall clock


def legs(history: dict[str, Any], *names: str) -> list[str]:
    return [leg(history[name]) for name in names]


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["id"] for record in records]


def test_finished_calls_and_refusals_read_as_sip_trunking_records(api: Api, history: dict[str, Any]) -> None:
    data, meta = listed(api)
    assert meta == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 4}
    assert ids(data) == legs(history, "refused", "expired", "ended", "yesterday")  # the active call is not over
    by_id = {record["id"]: record for record in data}
    profile, group = history["profile"]["id"], history["group"]["id"]
    ended = history["ended"]
    assert by_id[leg(ended)] == {
        "record_type": "sip-trunking", "id": leg(ended),
        "telnyx_session_id": str(uuid.UUID(int=(1 << 64) | int(ended["id"]))), "direction": "outbound",
        "cli": "+12025550100", "cld": US, "country_code": "US", "connection_id": None,
        "outbound_profile_id": profile, "billing_group_id": group, "started_at": START,
        "answered_at": "2026-03-10T10:00:05.000Z", "finished_at": "2026-03-10T10:01:06.000Z", "call_sec": 61,
        "billed_sec": 120, "rate": "0.0050", "cost": "0.010000", "currency": "USD",
        "hangup_cause": "NORMAL_CLEARING", "sip_invite_failure_status": None, "telnyx_error_code": None,
        "telnyx_error_message": None,
    }
    expired = by_id[leg(history["expired"])]
    # Neither how long it lasted nor what it costs is known until the switch ends it.
    assert {key: expired[key] for key in ("cld", "country_code", "started_at", "answered_at", "finished_at",
                                          "call_sec", "billed_sec", "rate", "cost", "hangup_cause",
                                          "sip_invite_failure_status", "telnyx_error_code")} == {
        "cld": UK, "country_code": "GB", "started_at": "2026-03-10T10:01:40.000Z", "answered_at": None,
        "finished_at": "2026-03-10T10:03:40.000Z", "call_sec": None, "billed_sec": None, "rate": "0.0600",
        "cost": None, "hangup_cause": "TIMEOUT", "sip_invite_failure_status": "408", "telnyx_error_code": None}
    refused = by_id[leg(history["refused"])]
    assert {key: refused[key] for key in ("cld", "country_code", "connection_id", "outbound_profile_id",
                                          "billing_group_id", "started_at", "answered_at", "finished_at",
                                          "call_sec", "billed_sec", "rate", "cost", "currency", "hangup_cause",
                                          "sip_invite_failure_status", "telnyx_error_code",
                                          "telnyx_error_message")} == {
        "cld": BR, "country_code": "BR", "connection_id": history["trunk"], "outbound_profile_id": profile,
        "billing_group_id": group, "started_at": "2026-03-10T10:01:50.000Z", "answered_at": None,
        "finished_at": "2026-03-10T10:01:50.000Z", "call_sec": 0, "billed_sec": 0, "rate": None,
        "cost": "0.000000", "currency": "USD", "hangup_cause": "CALL_REJECTED", "sip_invite_failure_status": "403",
        "telnyx_error_code": "D13",
        "telnyx_error_message": "Dialed number +5511912345678 is not included in whitelisted countries: US, GB"}


def test_every_record_has_the_fields_ovps_document_gives(api: Api, history: dict[str, Any]) -> None:
    schema = openapi_document()["components"]["schemas"]["SipTrunkingDetailRecord"]
    for record in listed(api)[0]:
        assert set(record) == set(schema["properties"])
        assert all(record[name] is not None for name in schema["required"])
        assert record["hangup_cause"] in schema["properties"]["hangup_cause"]["enum"]


def test_a_call_shows_once_it_ends(api: Api, history: dict[str, Any]) -> None:
    active = history["active"]
    assert leg(active) not in ids(listed(api)[0])
    at(api, advance_secs=30)
    post(api, f"{CALLS}/{active['id']}/actions/end", {"duration_secs": 200})
    record = listed(api, **{"filter[id]": leg(active)})[0]
    assert [(each["finished_at"], each["call_sec"], each["hangup_cause"]) for each in record] == [
        ("2026-03-10T10:05:30.000Z", 200, "NORMAL_CLEARING")]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-started_at", ["refused", "expired", "ended", "yesterday"]),
        ("started_at", ["yesterday", "ended", "expired", "refused"]),
        ("-finished_at", ["expired", "refused", "ended", "yesterday"]),
        ("finished_at", ["yesterday", "ended", "refused", "expired"]),
        # Records never answered come last, each way; among them, by id in the first key's direction.
        ("answered_at", ["ended", "yesterday", "expired", "refused"]),
        ("-answered_at", ["ended", "refused", "expired", "yesterday"]),
        ("-answered_at,started_at", ["ended", "yesterday", "expired", "refused"]),
        ("-answered_at,-answered_at,-started_at", ["ended", "refused", "expired", "yesterday"]),
    ],
)
def test_sorts_by_each_moment(api: Api, history: dict[str, Any], sort: str, expected: list[str]) -> None:
    assert ids(listed(api, sort=sort)[0]) == legs(history, *expected)
    paged = [ids(listed(api, sort=sort, **{"page[size]": 3, "page[number]": number})[0]) for number in (1, 2, 3)]
    assert paged == [legs(history, *expected[:3]), legs(history, *expected[3:]), []]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[date_range]": "today"}, ["refused", "expired", "ended"]),
        ({"filter[date_range]": "yesterday"}, ["yesterday"]),
        ({"filter[date_range]": "tomorrow"}, []),
        ({"filter[date_range]": "this_week"}, ["refused", "expired", "ended", "yesterday"]),  # from Monday
        ({"filter[date_range]": "last_week"}, []),
        ({"filter[date_range]": "this_month"}, ["refused", "expired", "ended", "yesterday"]),
        ({"filter[date_range]": "last_month"}, []),
        ({"filter[date_range]": "last_1_days"}, ["yesterday"]),  # the days before today
        ({"filter[date_range]": "today", "filter[started_at][lt]": "2026-03-10T10:01:50Z"}, ["expired", "ended"]),
        ({"filter[started_at][gt]": START, "filter[started_at][lte]": "2026-03-10T10:01:50Z"},
         ["refused", "expired"]),
        ({"filter[started_at][gte]": START, "filter[started_at][lt]": "2026-03-10T10:01:50Z"}, ["expired", "ended"]),
        ({"filter[answered_at][gte]": "2026-03-01"}, ["ended"]),
        ({"filter[finished_at][lte]": "2026-03-10T10:01:06Z"}, ["ended", "yesterday"]),
        ({"filter[finished_at][gt]": "2026-03-10T10:01:50Z"}, ["expired"]),
        ({"filter[cld]": BR}, ["refused"]),
        ({"filter[cli]": "+12025550100", "filter[cld]": US}, ["ended", "yesterday"]),
        ({"filter[telnyx_error_code]": "D15"}, ["yesterday"]),
        ({"filter[direction]": "outbound"}, ["refused", "expired", "ended", "yesterday"]),
        ({"filter[direction]": "inbound"}, []),
    ],
)
def test_filters_by_time_number_code_and_direction(
    api: Api, history: dict[str, Any], params: dict[str, str], expected: list[str]
) -> None:
    data, meta = listed(api, **params)
    assert ids(data) == legs(history, *expected)
    assert meta["total_results"] == len(expected)


def test_filters_by_id_connection_profile_and_billing_group(api: Api, history: dict[str, Any]) -> None:
    assert ids(listed(api, **{"filter[id]": leg(history["ended"])})[0]) == legs(history, "ended")
    session = listed(api, **{"filter[id]": leg(history["refused"])})[0][0]["telnyx_session_id"]
    assert ids(listed(api, **{"filter[telnyx_session_id]": session})[0]) == legs(history, "refused")
    assert listed(api, **{"filter[id]": leg(history["ended"]), "filter[telnyx_session_id]": session})[0] == []
    assert listed(api, **{"filter[id]": str(uuid.uuid4())})[0] == []  # a leg id no record of ovp's has
    assert listed(api, **{"filter[id]": leg(history["active"])})[0] == []  # not over yet
    assert ids(listed(api, **{"filter[connection_id]": history["trunk"]})[0]) == legs(history, "refused")
    assert ids(listed(api, **{"filter[outbound_profile_id]": history["disabled"]["id"]})[0]) == legs(
        history, "yesterday")
    assert ids(listed(api, **{"filter[billing_group_id]": history["group"]["id"]})[0]) == legs(
        history, "refused", "expired", "ended")


def test_pages_cover_the_records_once(api: Api, history: dict[str, Any]) -> None:
    pages = [listed(api, **{"page[size]": 3, "page[number]": number}) for number in (1, 2, 3)]
    assert [meta for _data, meta in pages] == [
        {"page_number": number, "page_size": 3, "total_pages": 2, "total_results": 4} for number in (1, 2, 3)]
    assert [record for data, _meta in pages for record in ids(data)] == ids(listed(api)[0])


def test_other_record_types_have_no_records_here(api: Api, history: dict[str, Any]) -> None:
    for record_type in ("messaging", "call-control", "webrtc"):
        response = api.request("GET", RECORDS, params={"filter[record_type]": record_type, "filter[status]": "x",
                                                       "sort": "-created_at", "page[size]": 5})
        assert response.status_code == 200, response.text
        assert response.json() == {"data": [], "meta": {"page_number": 1, "page_size": 5, "total_pages": 0,
                                                        "total_results": 0}}


def test_another_account_sees_none_of_them(api: Api, other_api: Api, history: dict[str, Any]) -> None:
    assert listed(other_api) == ([], {"page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0})
    assert listed(other_api, **{"filter[id]": leg(history["ended"])})[0] == []


def errors(api: Api, status: int, params: dict[str, Any]) -> list[tuple[str, str]]:
    response = api.request("GET", RECORDS, params=params)
    assert response.status_code == status, response.text
    return sorted((error["code"], error["source"]["parameter"]) for error in response.json()["errors"])


def test_the_record_type_is_required_and_one_of_telnyxs(api: Api) -> None:
    assert errors(api, 422, {}) == [("10004", "filter[record_type]")]
    assert errors(api, 422, {"filter[record_type]": "sip_trunking", "page[number]": 0}) == [
        ("10032", "filter[record_type]"), ("10033", "page[number]")]


def test_bad_values_are_named_all_at_once(api: Api) -> None:
    assert errors(api, 422, {
        **SIP, "page[size]": 251, "page[number]": "one", "filter[date_range]": "last_0_days",
        "filter[started_at][gte]": "yesterday", "filter[answered_at][lt]": "2026-13-01",
        "filter[finished_at][gt]": "soon", "filter[id]": "not-a-uuid", "filter[telnyx_session_id]": "12",
        "filter[cli]": "+1" * 33, "filter[cld]": "+1\x00", "filter[connection_id]": "abc",
        "filter[outbound_profile_id]": "0", "filter[billing_group_id]": "-1", "filter[telnyx_error_code]": "D" * 17,
        "filter[direction]": "sideways",
    }) == sorted([
        ("10033", "page[size]"), ("10026", "page[number]"), ("10032", "filter[date_range]"),
        ("10015", "filter[started_at][gte]"), ("10015", "filter[answered_at][lt]"),
        ("10015", "filter[finished_at][gt]"), ("10015", "filter[id]"), ("10015", "filter[telnyx_session_id]"),
        ("10025", "filter[cli]"), ("10015", "filter[cld]"), ("10015", "filter[connection_id]"),
        ("10015", "filter[outbound_profile_id]"), ("10015", "filter[billing_group_id]"),
        ("10015", "filter[telnyx_error_code]"), ("10032", "filter[direction]"),
    ])


def test_a_filter_or_sort_field_ovp_cannot_answer_is_a_400(api: Api) -> None:
    # Telnyx's sip-trunking records have no created_at; ovp knows no SIP Call-ID.
    assert errors(api, 400, {**SIP, "filter[created_at][gte]": "2026-01-01", "filter[sip_call_id]": "abc"}) == [
        ("10015", "filter[created_at][gte]"), ("10015", "filter[sip_call_id]")]
    assert errors(api, 400, {**SIP, "sort": "started_at,-created_at"}) == [("10015", "sort")]
    # With the values ovp found bad beside them.
    assert errors(api, 400, {**SIP, "filter[started_at]": START, "page[size]": 0}) == [
        ("10015", "filter[started_at]"), ("10033", "page[size]")]
