"""Ids: unique, time-ordered, within int64, and parsed strictly from paths."""

from __future__ import annotations

import uuid

import pytest

from ovp.domain.ids import MAX_ID, IdGenerator, parse_id, random_uuid, time_ordered_uuid, uuid_text


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


def test_time_ordered_uuids_are_version_7_and_sort_by_their_millisecond() -> None:
    made = [time_ordered_uuid(1_765_000_000_000 + step) for step in range(0, 5_000, 7)]
    assert made == sorted(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (7, uuid.RFC_4122)
        assert parsed.int >> 80 == int(text.replace("-", "")[:12], 16)
    assert uuid.UUID(made[0]).int >> 80 == 1_765_000_000_000
    within_one = {time_ordered_uuid(1_765_000_000_000) for _ in range(1_000)}
    assert len(within_one) == 1_000  # 74 random bits each


@pytest.mark.parametrize("value", [0, 1, (1 << 64) | 123_456_789, (1 << 128) - 1, 0x0123456789ABCDEF0123456789ABCDEF])
def test_uuid_text_writes_what_the_uuid_module_writes(value: int) -> None:
    assert uuid_text(value) == str(uuid.UUID(int=value))


def test_random_uuids_are_version_4_and_distinct() -> None:
    made = [random_uuid() for _ in range(1_000)]
    assert len(set(made)) == len(made)
    for text in made:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant) == (4, uuid.RFC_4122)
        assert str(parsed) == text
