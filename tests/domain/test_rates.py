"""Rate decks from CSV: what loads, and every bad line reported with its pointer."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ovp.domain.calls.rates import parse_rate_deck
from ovp.domain.errors import InvalidInput


def test_a_deck_with_a_header_and_extra_columns() -> None:
    deck = parse_rate_deck("country,prefix,description,rate\nUS,1,USA,0.0100\nUS,+1415,San Francisco,0.005\n")
    assert deck == {"1": Decimal("0.0100"), "1415": Decimal("0.005")}


def test_a_deck_without_a_header_takes_prefix_then_rate() -> None:
    assert parse_rate_deck("44,0.02\r\n\r\n33,0.03\r\n") == {"44": Decimal("0.02"), "33": Decimal("0.03")}


def test_an_empty_deck_is_empty() -> None:
    assert parse_rate_deck("") == {}
    assert parse_rate_deck("prefix,rate\n") == {}


def test_every_bad_line_is_reported() -> None:
    text = "prefix,rate\n1,0.01\nabc,0.01\n44,-1\n1,0.02\n49\n7,0.0000001\n1234567890123456,1\n"
    with pytest.raises(InvalidInput) as raised:
        parse_rate_deck(text)
    pointers = [problem.pointer for problem in raised.value.problems]
    assert pointers == ["/lines/3/prefix", "/lines/4/rate", "/lines/5/prefix", "/lines/6/rate", "/lines/7/rate",
                        "/lines/8/prefix"]
    assert raised.value.problems[2].detail == "line 5: prefix 1 appears twice"


@pytest.mark.parametrize("rate", ["NaN", "Infinity", "1e3", "1000", "abc", ""])
def test_rates_out_of_range_or_not_numbers(rate: str) -> None:
    with pytest.raises(InvalidInput):
        parse_rate_deck(f"1,{rate}\n")


def test_a_huge_bad_deck_reports_at_most_a_hundred_problems() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_rate_deck("x,y\n" * 10_000)
    assert len(raised.value.problems) == 100


def test_rates_read_back_plainly() -> None:
    assert {prefix: str(rate) for prefix, rate in parse_rate_deck("1,1e2\n2,-0\n3,0.0100\n").items()} == {
        "1": "100", "2": "0", "3": "0.0100"}


def test_text_the_csv_reader_cannot_read_is_a_problem_with_its_line() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_rate_deck("prefix,rate\n1,0.01\n2," + "9" * 200_000 + "\n")
    assert [problem.pointer for problem in raised.value.problems] == ["/lines/3"]
