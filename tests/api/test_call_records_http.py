"""Every decision on record, over HTTP on both backends: the list, its filters and pages, the CSV
export and the usage reports."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from ovp.api.call_records import CSV_COLUMNS, EXPORT_CHUNK
from tests.api.test_calls_http import BR, CALLS, UK, answer, ask, connection, end, load_deck, through
from tests.conftest import Api

REPORTS = "/ovp/usage_reports"


def listed(api: Api, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    response = api.request("GET", CALLS, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return body["data"], body["meta"]


def exported(api: Api, **params: Any) -> list[dict[str, str]]:
    response = api.request("GET", CALLS, params=params, headers={"Accept": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "content-length" not in response.headers  # streamed
    reader = csv.DictReader(io.StringIO(response.text))
    assert tuple(reader.fieldnames or ()) == CSV_COLUMNS
    return list(reader)


def report(api: Api, group_by: str, **params: Any) -> list[dict[str, Any]]:
    response = api.request("GET", REPORTS, params={"group_by": group_by, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


@pytest.fixture
def history(api: Api) -> dict[str, Any]:
    """Five decisions of the account, oldest first: an allowed call answered and ended after 61 s
    (billed 120 s at 0.005 a minute), a refusal by D2 (the profile's one channel taken by a third
    call), a refusal by D13 through a connection, a refusal by D15 (a disabled profile), and the
    call still ringing."""
    load_deck(api)
    group = api.request("POST", "/v2/billing_groups", json={"name": "sales"}).json()["data"]
    limited = api.create(name="limited", concurrent_call_limit=1, billing_group_id=group["id"],
                         whitelisted_destinations=["US", "GB"])
    disabled = api.create(name="disabled", enabled=False)
    trunk = connection(api, limited, "trunk")
    first = ask(api, limited)
    answer(api, first["id"])
    ended = end(api, first["id"], 61, answered=False)
    ringing = ask(api, limited, UK)
    full = ask(api, limited)
    not_whitelisted = through(api, trunk, BR)
    off = ask(api, disabled)
    assert [full["code"], not_whitelisted["code"], off["code"]] == ["D2", "D13", "D15"]
    return {"group": group, "limited": limited, "disabled": disabled, "trunk": trunk,
            "records": [ended, full, not_whitelisted, off, ringing]}


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["id"] for record in records]


def test_the_list_holds_every_decision_newest_first_as_each_reads(api: Api, history: dict[str, Any]) -> None:
    data, meta = listed(api)
    assert meta == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 5}
    assert ids(data) == sorted(ids(history["records"]), key=int, reverse=True)
    by_id = {record["id"]: record for record in data}
    for record in history["records"][1:4]:  # the refusals, as their answers read
        assert by_id[record["id"]] == record
    ended = by_id[history["records"][0]["id"]]
    assert (ended["status"], ended["billed_secs"], ended["cost"]) == ("ended", 120, "0.010000")
    assert ended["billing_group_id"] == history["group"]["id"]
    assert by_id[history["records"][4]["id"]]["status"] == "ringing"
    refused_through_trunk = by_id[history["records"][2]["id"]]
    assert (refused_through_trunk["connection_id"], refused_through_trunk["outbound_voice_profile_id"],
            refused_through_trunk["billing_group_id"], refused_through_trunk["country_code"]) == (
        history["trunk"], history["limited"]["id"], history["group"]["id"], "BR")


def test_pages_cover_the_list_once(api: Api, history: dict[str, Any]) -> None:
    pages = [listed(api, **{"page[size]": 2, "page[number]": number}) for number in (1, 2, 3, 4)]
    assert [meta["total_pages"] for _data, meta in pages] == [3, 3, 3, 3]
    assert [len(data) for data, _meta in pages] == [2, 2, 1, 0]
    assert [record for data, _meta in pages for record in ids(data)] == ids(listed(api)[0])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"filter[decision]": "rejected"}, [1, 2, 3]),
        ({"filter[decision]": "allowed"}, [0, 4]),
        ({"filter[code]": "D2"}, [1]),
        ({"filter[code]": "D2", "filter[decision]": "allowed"}, []),
        ({"filter[status]": "ended"}, [0]),
        ({"filter[status]": "ringing"}, [4]),
        ({"filter[status]": "active"}, []),
        ({"filter[status]": "expired"}, []),
    ],
)
def test_filters_by_decision_code_and_status(
    api: Api, history: dict[str, Any], params: dict[str, str], expected: list[int]
) -> None:
    records = history["records"]
    want = sorted((records[index]["id"] for index in expected), key=int, reverse=True)
    assert ids(listed(api, **params)[0]) == want
    assert [row["id"] for row in exported(api, **params)] == want


def test_filters_by_profile_connection_billing_group_and_time(api: Api, history: dict[str, Any]) -> None:
    records = history["records"]
    newest_first = sorted(ids(records), key=int, reverse=True)
    limited = sorted((records[index]["id"] for index in (0, 1, 2, 4)), key=int, reverse=True)
    assert ids(listed(api, **{"filter[outbound_voice_profile_id]": history["limited"]["id"]})[0]) == limited
    assert ids(listed(api, **{"filter[outbound_voice_profile_id]": history["disabled"]["id"]})[0]) == [
        records[3]["id"]]
    assert ids(listed(api, **{"filter[connection_id]": history["trunk"]})[0]) == [records[2]["id"]]
    assert ids(listed(api, **{"filter[billing_group_id]": history["group"]["id"]})[0]) == limited
    # A range by the times the records give: from the second, up to (not including) the last's.
    times = sorted(record["authorized_at"] for record in listed(api)[0])
    within = listed(api, **{"filter[authorized_at][gte]": times[1], "filter[authorized_at][lt]": times[-1]})[0]
    assert all(times[1] <= record["authorized_at"] < times[-1] for record in within)
    assert set(ids(within)) < set(newest_first)
    assert len(within) == sum(times[1] <= moment < times[-1] for moment in times)


def test_another_account_sees_none_of_them(api: Api, other_api: Api, history: dict[str, Any]) -> None:
    assert listed(other_api) == ([], {"page_number": 1, "page_size": 20, "total_pages": 0, "total_results": 0})
    assert exported(other_api) == []
    assert report(other_api, "code") == []
    assert other_api.request("GET", f"{CALLS}/{history['records'][1]['id']}").status_code == 404


def test_bad_filters_are_named_all_at_once(api: Api) -> None:
    response = api.request("GET", CALLS, params={
        "filter[decision]": "maybe", "filter[status]": "lost", "filter[outbound_voice_profile_id]": "abc",
        "filter[connection_id]": "0", "filter[billing_group_id]": "-1", "filter[authorized_at][gte]": "yesterday",
        "filter[authorized_at][lt]": "2026-13-01", "filter[code]": "D" * 17, "page[size]": 0,
    })
    assert response.status_code == 422
    named = sorted(error["source"]["parameter"] for error in response.json()["errors"])
    assert named == sorted([
        "filter[decision]", "filter[status]", "filter[outbound_voice_profile_id]", "filter[connection_id]",
        "filter[billing_group_id]", "filter[authorized_at][gte]", "filter[authorized_at][lt]", "filter[code]",
        "page[size]"])
    # PostgreSQL keeps no NUL in text: a code with one is named, not a 500.
    nul = api.request("GET", CALLS, params={"filter[code]": "D\x002"})
    assert (nul.status_code, [error["source"] for error in nul.json()["errors"]]) == (
        422, [{"parameter": "filter[code]"}])
    # The export checks them as the list does, before it starts.
    assert api.request("GET", CALLS, params={"filter[status]": "lost"},
                       headers={"Accept": "text/csv"}).status_code == 422


def test_the_export_reads_as_the_list(api: Api, history: dict[str, Any]) -> None:
    rows = exported(api)
    data = listed(api)[0]
    assert [row["id"] for row in rows] == ids(data)
    for row, record in zip(rows, data, strict=True):
        assert row == {column: "" if record.get(column) is None else str(record[column]) for column in CSV_COLUMNS}


def test_the_export_streams_past_its_chunks(api: Api) -> None:
    load_deck(api)
    profile = api.create(enabled=False)
    made = [ask(api, profile)["id"] for _ in range(EXPORT_CHUNK + 1)]
    rows = exported(api, **{"filter[code]": "D15"})
    assert [row["id"] for row in rows] == sorted(made, key=int, reverse=True)  # each once, newest first


def test_usage_reports_total_each_group(api: Api, history: dict[str, Any]) -> None:
    limited, disabled = history["limited"]["id"], history["disabled"]["id"]
    totals = {"calls": 0, "allowed": 0, "refused": 0, "billed_secs": 0, "cost": "0.000000", "currency": "USD"}

    def row(key: str, value: str | None, **counted: Any) -> dict[str, Any]:
        return {"record_type": "usage_report", key: value, **totals, **counted}

    assert report(api, "outbound_voice_profile_id") == [
        row("outbound_voice_profile_id", limited, calls=4, allowed=2, refused=2, billed_secs=120, cost="0.010000"),
        row("outbound_voice_profile_id", disabled, calls=1, refused=1),
    ]
    assert report(api, "code") == [
        row("code", None, calls=2, allowed=2, billed_secs=120, cost="0.010000"),
        *sorted([row("code", "D13", calls=1, refused=1), row("code", "D15", calls=1, refused=1),
                 row("code", "D2", calls=1, refused=1)], key=lambda entry: entry["code"]),
    ]
    assert report(api, "country_code") == [
        row("country_code", "US", calls=3, allowed=1, refused=2, billed_secs=120, cost="0.010000"),
        row("country_code", "BR", calls=1, refused=1),
        row("country_code", "GB", calls=1, allowed=1),
    ]
    assert report(api, "connection_id") == [
        row("connection_id", None, calls=4, allowed=2, refused=2, billed_secs=120, cost="0.010000"),
        row("connection_id", history["trunk"], calls=1, refused=1),
    ]
    assert report(api, "billing_group_id", **{"filter[decision]": "rejected"}) == [
        row("billing_group_id", history["group"]["id"], calls=2, refused=2),
        row("billing_group_id", None, calls=1, refused=1),
    ]


def test_a_usage_report_needs_its_grouping(api: Api) -> None:
    for params in ({}, {"group_by": "colour"}):
        response = api.request("GET", REPORTS, params=params)
        assert response.status_code == 422
        assert [error["source"] for error in response.json()["errors"]] == [{"parameter": "group_by"}]
