"""Billed time in increments, and costs in micro-dollars."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ovp.domain.calls.billing import BillingIncrement, cost_micros, money_text


@pytest.mark.parametrize(
    ("increment", "duration", "billed"),
    [
        ("60/60", 0, 0),  # never connected: nothing billed
        ("60/60", 1, 60),
        ("60/60", 60, 60),
        ("60/60", 61, 120),
        ("60/60", 125, 180),
        ("1/1", 37, 37),
        ("30/6", 10, 30),
        ("30/6", 31, 36),
        ("30/6", 36, 36),
        ("30/6", 37, 42),
    ],
)
def test_billed_seconds(increment: str, duration: int, billed: int) -> None:
    assert BillingIncrement.parse(increment).billed_seconds(duration) == billed


@pytest.mark.parametrize("text", ["60", "0/60", "60/0", "a/b", "60/60/60", "-1/1", "60000/60", ""])
def test_bad_increments_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="initial/subsequent"):
        BillingIncrement.parse(text)


def test_an_increment_reads_back_as_written() -> None:
    assert str(BillingIncrement.parse(" 30/6 ")) == "30/6"


@pytest.mark.parametrize(
    ("rate", "seconds", "micros"),
    [("0.01", 60, 10_000), ("0.01", 120, 20_000), ("0.005", 30, 2_500), ("0.000001", 30, 1),  # 0.5 rounds up
     ("0.000001", 29, 0), ("0", 600, 0), ("999.999999", 60, 999_999_999)],
)
def test_costs_round_half_up_to_a_micro_dollar(rate: str, seconds: int, micros: int) -> None:
    assert cost_micros(Decimal(rate), seconds) == micros


def test_money_reads_as_dollars_with_six_decimals() -> None:
    assert money_text(1_234_500) == "1.234500"
    assert money_text(0) == "0.000000"
