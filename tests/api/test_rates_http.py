"""The rate deck over HTTP: replaced whole from CSV, read back by page, kept per account."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Api

RATES = "/ovp/rates"
CSV = {"Content-Type": "text/csv"}


def put(api: Api, deck: str | bytes) -> Any:
    return api.request("PUT", RATES, content=deck, headers=CSV)


def test_a_deck_replaces_the_last_and_reads_back_in_prefix_order(api: Api) -> None:
    assert put(api, "prefix,rate\n44,0.06\n1,0.01\n").json() == {"data": {"record_type": "rate_deck", "rates_count": 2}}
    assert put(api, "prefix,rate\n1415,0.005\n1,0.0100\n33,0.03\n").json()["data"]["rates_count"] == 3
    listed = api.request("GET", RATES).json()
    assert listed["data"] == [
        {"record_type": "rate", "prefix": "1", "rate": "0.0100", "currency": "USD"},
        {"record_type": "rate", "prefix": "1415", "rate": "0.005", "currency": "USD"},
        {"record_type": "rate", "prefix": "33", "rate": "0.03", "currency": "USD"},
    ]
    assert listed["meta"] == {"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 3}


def test_pages_and_the_prefix_filter(api: Api) -> None:
    put(api, "".join(f"{prefix},0.01\n" for prefix in range(100, 150)))
    page = api.request("GET", RATES, params={"page[number]": 2, "page[size]": 20, "filter[prefix]": "+1"}).json()
    assert [rate["prefix"] for rate in page["data"]] == [str(prefix) for prefix in range(120, 140)]
    assert page["meta"] == {"page_number": 2, "page_size": 20, "total_pages": 3, "total_results": 50}
    narrow = api.request("GET", RATES, params={"filter[prefix]": "14"}).json()
    assert [rate["prefix"] for rate in narrow["data"]] == [str(prefix) for prefix in range(140, 150)]


def test_a_bad_deck_lists_every_bad_line_and_keeps_the_old_one(api: Api) -> None:
    put(api, "1,0.01\n")
    response = put(api, "prefix,rate\n44,abc\nx1,0.1\n")
    assert response.status_code == 422
    assert [error["source"]["pointer"] for error in response.json()["errors"]] == ["/lines/2/rate", "/lines/3/prefix"]
    assert [rate["prefix"] for rate in api.request("GET", RATES).json()["data"]] == ["1"]


@pytest.mark.parametrize(
    ("content", "headers", "status"),
    [
        ('{"prefix": "1"}', {"Content-Type": "application/json"}, 415),
        (b"1,0.01\n\xff\n", CSV, 400),
    ],
)
def test_a_deck_must_be_utf8_csv(api: Api, content: str | bytes, headers: dict[str, str], status: int) -> None:
    response = api.request("PUT", RATES, content=content, headers=headers)
    assert response.status_code == status
    assert response.json()["errors"][0]["code"] == "10015"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [({"filter[prefix]": "12a"}, "filter[prefix]"), ({"page[size]": "0"}, "page[size]")],
)
def test_bad_list_parameters(api: Api, params: dict[str, str], parameter: str) -> None:
    response = api.request("GET", RATES, params=params)
    assert response.status_code == 422
    assert response.json()["errors"][0]["source"] == {"parameter": parameter}


def test_each_account_has_its_own_deck(api: Api, other_api: Api) -> None:
    put(api, "1,0.01\n")
    assert other_api.request("GET", RATES).json()["data"] == []
    assert api.request("DELETE", RATES).status_code == 405
