"""Table-driven tests of GET /v2/detail_records' query: date ranges, time bounds, sorts and ids."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from ovp.domain.calls.call_ids import call_leg_id, call_session_id
from ovp.domain.calls.decisions import Order, Window
from ovp.domain.calls.detail_records import date_range, parse_detail_record_query
from ovp.domain.errors import BadRequest

SIP = {"filter[record_type]": "sip-trunking"}


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("now", "name", "low", "high"),
    [
        ("2026-03-10T10:00:00", "today", "2026-03-10", "2026-03-11"),
        ("2026-03-10T00:00:00", "yesterday", "2026-03-09", "2026-03-10"),
        ("2026-03-10T23:59:59.999", "tomorrow", "2026-03-11", "2026-03-12"),
        ("2026-03-10T10:00:00", "this_week", "2026-03-09", "2026-03-16"),  # Tuesday: from Monday
        ("2026-03-15T23:00:00", "this_week", "2026-03-09", "2026-03-16"),  # Sunday: the same week
        ("2026-03-16T00:00:00", "last_week", "2026-03-09", "2026-03-16"),
        ("2026-01-01T08:00:00", "next_week", "2026-01-05", "2026-01-12"),
        ("2026-01-15T08:00:00", "last_month", "2025-12-01", "2026-01-01"),
        ("2026-12-31T23:00:00", "this_month", "2026-12-01", "2027-01-01"),
        ("2026-12-31T23:00:00", "next_month", "2027-01-01", "2027-02-01"),
        ("2024-02-29T12:00:00", "this_month", "2024-02-01", "2024-03-01"),
        ("2026-03-10T10:00:00", "last_1_days", "2026-03-09", "2026-03-10"),
        ("2026-03-10T10:00:00", "last_30_days", "2026-02-08", "2026-03-10"),
    ],
)
def test_a_date_range_is_whole_utc_days(now: str, name: str, low: str, high: str) -> None:
    assert date_range(name, ms(now)) == Window(ms(low), ms(high))


@pytest.mark.parametrize("name", ["last_0_days", "last_36501_days", "last_days", "Today", "last_1_day", ""])
def test_other_date_ranges_are_none(name: str) -> None:
    assert date_range(name, ms("2026-03-10T10:00:00")) is None


def test_time_bounds_meet_the_date_range_as_half_open_windows() -> None:
    query = parse_detail_record_query({
        **SIP, "filter[date_range]": "today", "filter[started_at][gt]": "2026-03-10T08:00:00Z",
        "filter[started_at][lte]": "2026-03-11T08:00:00Z", "filter[finished_at][gte]": "2026-03-10T09:00:00Z",
    }, ms("2026-03-10T10:00:00"))
    found = query.filter
    assert (found.since_ms, found.until_ms) == (ms("2026-03-10T08:00:00.001"), ms("2026-03-11T00:00:00"))
    assert found.finished == Window(ms("2026-03-10T09:00:00"), None)
    assert found.answered is None
    assert found.finished_only


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (None, (Order("started"),)),
        ("", (Order("started"),)),
        ("started_at", (Order("started", descending=False),)),
        ("-finished_at, answered_at", (Order("finished"), Order("answered", descending=False))),
        ("answered_at,-answered_at", (Order("answered", descending=False),)),  # the first of each moment
    ],
)
def test_sorts(sort: str | None, expected: tuple[Order, ...]) -> None:
    params = {**SIP, **({} if sort is None else {"sort": sort})}
    assert parse_detail_record_query(params, 0).order == expected


def test_ids_read_back_to_the_record() -> None:
    record = 917305869331705856
    by_leg = parse_detail_record_query({**SIP, "filter[id]": call_leg_id(record)}, 0)
    by_session = parse_detail_record_query({**SIP, "filter[telnyx_session_id]": call_session_id(record)}, 0)
    both = parse_detail_record_query({**SIP, "filter[id]": call_leg_id(record),
                                      "filter[telnyx_session_id]": call_session_id(record)}, 0)
    assert by_leg.filter.record_id == by_session.filter.record_id == both.filter.record_id == record
    assert [by_leg.matches_nothing, by_session.matches_nothing, both.matches_nothing] == [False] * 3
    for params in ({"filter[id]": str(uuid.UUID(int=2**63))}, {"filter[telnyx_session_id]": call_leg_id(record)},
                   {"filter[id]": call_leg_id(record), "filter[telnyx_session_id]": call_session_id(record + 1)}):
        assert parse_detail_record_query({**SIP, **params}, 0).matches_nothing, params


def test_other_record_types_match_nothing_whatever_else_they_ask() -> None:
    query = parse_detail_record_query({"filter[record_type]": "messaging", "filter[status]": "delivered",
                                       "sort": "-created_at"}, 0)
    assert query.matches_nothing


def test_a_field_ovp_cannot_answer_names_itself_before_the_bad_values() -> None:
    with pytest.raises(BadRequest) as caught:
        parse_detail_record_query({**SIP, "sort": "cost", "filter[hangup_cause]": "x", "page[size]": "0"}, 0)
    assert [(problem.code, problem.parameter) for problem in caught.value.problems] == [
        ("10015", "filter[hangup_cause]"), ("10015", "sort"), ("10033", "page[size]")]
