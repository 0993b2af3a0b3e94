"""Ids: unique, time-ordered, within int64, and parsed strictly from paths."""

from __future__ import annotations

import pytest

from ovp.domain.ids import MAX_ID, IdGenerator, parse_id


def test_ids_are_unique_and_increasing_even_within_one_millisecond() -> None:
    generator = IdGenerator(clock_ms=lambda: 1_700_000_000_000)
    ids = [generator.next_id() for _ in range(10_000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(0 < value <= MAX_ID for value in ids)


def test_ids_never_go_back_when_the_clock_does() -> None:
    times = iter([1_700_000_000_500, 1_700_000_000_000])
    generator = IdGenerator(clock_ms=lambda: next(times))
    first, second = generator.next_id(), generator.next_id()
    assert second > first


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1293384261075731499", 1293384261075731499),
        ("1", 1),
        ("0", None),
        ("abc", None),
        ("-5", None),
        ("9223372036854775808", None),
        ("99999999999999999999999", None),
        ("\uff11\uff12\uff13", None),  # full-width digits
    ],
)
def test_parse_id(text: str, expected: int | None) -> None:
    assert parse_id(text) == expected
