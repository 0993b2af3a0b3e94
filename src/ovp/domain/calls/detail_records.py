"""What GET /v2/detail_records asks for (the official SDKs' `detail_records.list`): Telnyx's record
type, required; its page and sort; and, for sip-trunking records, the filters ovp answers on the
calls it decided. Pure, no I/O.

Telnyx rejects a filter or a sort by a field its record type does not have with a 400; ovp does
the same with the fields it cannot filter or sort its records by, and answers a bad value of a
field it knows with a 422 naming it, as its other lists do. Telnyx's other record types are valid
questions to which ovp, which keeps none of them, answers an empty page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from ovp.domain.calls.call_ids import record_of_leg, record_of_session
from ovp.domain.calls.decisions import (
    DecisionFilter,
    Moment,
    Order,
    Window,
    billing_group_parameter,
    code_parameter,
    id_parameter,
)
from ovp.domain.errors import BadRequest, Problem, ProblemList
from ovp.domain.listing import ListQuery, parse_choice, parse_moment, parse_page, parse_text
from ovp.domain.validation import BAD_VALUE, MISSING, NOT_IN_ENUM

# Every record type the SDKs' `filter[record_type]` takes (PyPI telnyx 4.189).
RECORD_TYPES = (
    "ai-voice-assistant", "amd", "call-control", "conference", "conference-participant", "embedding", "fax",
    "inference", "inference-speech-to-text", "media_storage", "media-streaming", "messaging", "noise-suppression",
    "recording", "sip-trunking", "siprec-client", "stt", "tts", "verify", "webrtc", "wireless",
)
SIP_TRUNKING = "sip-trunking"
RECORD_TYPE = "filter[record_type]"
DATE_RANGES = ("yesterday", "today", "tomorrow", "last_week", "this_week", "next_week", "last_month", "this_month",
               "next_month")
_LAST_DAYS = re.compile(r"last_([0-9]{1,6})_days")
MAX_LAST_DAYS = 36_500
# The moments a record is filtered and sorted by, by the name of its field.
MOMENTS: dict[str, Moment] = {"started_at": "started", "answered_at": "answered", "finished_at": "finished"}
OPERATORS = ("gte", "gt", "lte", "lt")
DEFAULT_SORT = (Order("started"),)  # the newest first
MAX_NUMBER_LENGTH = 64  # a number as ovp keeps it
_PLAIN_FILTERS = ("record_type", "date_range", "id", "telnyx_session_id", "cli", "cld", "connection_id",
                  "outbound_profile_id", "billing_group_id", "telnyx_error_code", "direction")
FILTERS = (*(f"filter[{name}]" for name in _PLAIN_FILTERS),
           *(f"filter[{field}][{operator}]" for field in MOMENTS for operator in OPERATORS))


@dataclass(frozen=True)
class DetailRecordQuery:
    page: ListQuery
    record_type: str
    filter: DecisionFilter
    order: tuple[Order, ...] = DEFAULT_SORT
    matches_nothing: bool = False  # another record type, inbound calls, an id no record of ovp's has


def _start_of_week(day: date) -> date:
    return day - timedelta(days=day.weekday())  # weeks start on Monday, as ISO 8601's


def _months_from(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _days(name: str, today: date) -> tuple[date, date] | None:
    """The days, from the first to the one after the last, that a date range names."""
    spans = {
        "yesterday": (today - timedelta(days=1), today), "today": (today, today + timedelta(days=1)),
        "tomorrow": (today + timedelta(days=1), today + timedelta(days=2)),
    }
    week = _start_of_week(today)
    for offset, prefix in ((-1, "last"), (0, "this"), (1, "next")):
        spans[f"{prefix}_week"] = (week + timedelta(weeks=offset), week + timedelta(weeks=offset + 1))
        spans[f"{prefix}_month"] = (_months_from(today, offset), _months_from(today, offset + 1))
    if name in spans:
        return spans[name]
    last = _LAST_DAYS.fullmatch(name)
    if last is not None and 1 <= int(last.group(1)) <= MAX_LAST_DAYS:
        return today - timedelta(days=int(last.group(1))), today
    return None


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)


def date_range(name: str, now_ms: int) -> Window | None:
    """The times a `filter[date_range]` names, in whole UTC days around `now_ms`; None for no
    range. `last_N_days` is the N days before today."""
    today = datetime.fromtimestamp(now_ms / 1000, UTC).date()
    days = _days(name, today)
    return None if days is None else Window(_ms(days[0]), _ms(days[1]))


def _date_range(params: Mapping[str, str], now_ms: int, problems: ProblemList) -> Window:
    name = params.get("filter[date_range]")
    if not name:
        return Window()
    window = date_range(name, now_ms)
    if window is None:
        code, title = NOT_IN_ENUM
        problems.add(Problem(code, title, f"filter[date_range] must be one of: {', '.join(DATE_RANGES)}, or "
                             f"last_N_days with N from 1 to {MAX_LAST_DAYS}.", parameter="filter[date_range]"))
        return Window()
    return window


def _moment_window(params: Mapping[str, str], field: str, problems: ProblemList) -> Window:
    """The bounds of `filter[<field>][gte|gt|lte|lt]`, as times at or after one and before another."""
    bounds = {operator: parse_moment(params, f"filter[{field}][{operator}]", problems) for operator in OPERATORS}
    window = Window(bounds["gte"], bounds["lt"])
    after, up_to = bounds["gt"], bounds["lte"]
    return window.within(Window(None if after is None else after + 1, None if up_to is None else up_to + 1))


def _ids(params: Mapping[str, str], problems: ProblemList) -> tuple[int | None, bool]:
    """The record filter[id] and filter[telnyx_session_id] name, and whether they name none: an id
    no record of ovp's has, or two records."""
    named: set[int | None] = set()
    for name, record_of in (("filter[id]", record_of_leg), ("filter[telnyx_session_id]", record_of_session)):
        raw = params.get(name)
        if not raw:
            continue
        try:
            named.add(record_of(uuid.UUID(raw)))
        except ValueError:
            code, title = BAD_VALUE
            problems.add(Problem(code, title, f"{name} must be a UUID.", parameter=name))
    record = next(iter(named)) if len(named) == 1 else None
    return record, bool(named) and record is None


def _sip_trunking_filter(params: Mapping[str, str], now_ms: int, problems: ProblemList) -> tuple[DecisionFilter, bool]:
    """The filter of sip-trunking records, and whether no record of ovp's can pass it."""
    windows = {moment: _moment_window(params, field, problems) for field, moment in MOMENTS.items()}
    started = windows["started"].within(_date_range(params, now_ms, problems))
    record, no_record = _ids(params, problems)
    direction = parse_choice(params, "filter[direction]", ("inbound", "outbound"), problems)
    found = DecisionFilter(
        finished_only=True, record_id=record, caller=parse_text(params, "filter[cli]", MAX_NUMBER_LENGTH, problems),
        dialled=parse_text(params, "filter[cld]", MAX_NUMBER_LENGTH, problems),
        connection_id=id_parameter(params, "filter[connection_id]", problems),
        profile_id=id_parameter(params, "filter[outbound_profile_id]", problems),
        billing_group_id=billing_group_parameter(params, "filter[billing_group_id]", problems),
        code=code_parameter(params, "filter[telnyx_error_code]", problems),
        since_ms=started.low_ms, until_ms=started.high_ms,
        answered=None if windows["answered"] == Window() else windows["answered"],
        finished=None if windows["finished"] == Window() else windows["finished"],
    )
    return found, no_record or direction == "inbound"  # ovp decides outbound calls only


def _order(params: Mapping[str, str], unknown: ProblemList) -> tuple[Order, ...]:
    named = [part.strip() for part in (params.get("sort") or "").split(",") if part.strip()]
    order: dict[Moment, Order] = {}
    for part in named:
        moment = MOMENTS.get(part.removeprefix("-"))
        if moment is None:
            code, title = BAD_VALUE
            unknown.add(Problem(code, title, "sip-trunking records sort by: " + ", ".join(
                f"{field}, -{field}" for field in MOMENTS) + " (several, separated by commas).", parameter="sort"))
            return DEFAULT_SORT
        order.setdefault(moment, Order(moment, descending=part.startswith("-")))
    return tuple(order.values()) or DEFAULT_SORT


_FILTERED_BY = (", ".join(_PLAIN_FILTERS) + ", and " + ", ".join(MOMENTS) + " each with [" + "], [".join(OPERATORS)
                + "]")


def _unknown_filters(params: Mapping[str, str], unknown: ProblemList) -> None:
    code, title = BAD_VALUE
    for name in params:
        if name.startswith("filter[") and name not in FILTERS:
            unknown.add(Problem(code, title, f"{name} is not a filter of ovp's sip-trunking records, which filter "
                                f"by {_FILTERED_BY}.", parameter=name))


def _record_type(params: Mapping[str, str], problems: ProblemList) -> str | None:
    record_type = params.get(RECORD_TYPE)
    if not record_type:
        code, title = MISSING
        problems.add(Problem(code, title, f"{RECORD_TYPE} is required: {SIP_TRUNKING} for the calls ovp decided.",
                             parameter=RECORD_TYPE))
        return None
    return parse_choice(params, RECORD_TYPE, RECORD_TYPES, problems)


def parse_detail_record_query(params: Mapping[str, str], now_ms: int) -> DetailRecordQuery:
    """The query, its date range read around `now_ms`. Raises BadRequest naming each filter or sort
    field ovp cannot answer (with every other problem), or else InvalidInput naming each bad value."""
    problems, unknown = ProblemList(), ProblemList()
    page_number, page_size = parse_page(params, problems)
    record_type = _record_type(params, problems)
    query = DetailRecordQuery(ListQuery(page_number, page_size), record_type or "", DecisionFilter(),
                              matches_nothing=True)
    if record_type == SIP_TRUNKING:
        _unknown_filters(params, unknown)
        found, nothing = _sip_trunking_filter(params, now_ms, problems)
        query = replace(query, filter=found, order=_order(params, unknown), matches_nothing=nothing)
    if unknown.problems:
        raise BadRequest(unknown.problems + problems.problems)
    problems.raise_if_any()
    return query
