"""Which webhook deliveries GET /v2/webhook_deliveries asks for: the official SDKs' filters
(filter[status][eq], filter[event_type], filter[webhook][contains], filter[attempts][contains],
filter[started_at][gte|lte], filter[finished_at][gte|lte]) and Telnyx's paging. Pure, no I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ovp.domain.errors import Problem, ProblemList
from ovp.domain.listing import ListQuery, parse_choice, parse_moment, parse_page, parse_text
from ovp.domain.validation import BAD_VALUE
from ovp.domain.webhooks.events import EVENT_TYPES

MAX_CONTAINS = 255


@dataclass(frozen=True)
class DeliveryFilter:
    """None: not filtered. Times in epoch milliseconds, each bound included."""

    status: str | None = None  # delivered or failed
    event_types: tuple[str, ...] = ()
    webhook_contains: str | None = None  # in the event's JSON
    attempts_contains: str | None = None  # in the attempts' JSON
    started_gte: int | None = None
    started_lte: int | None = None
    finished_gte: int | None = None
    finished_lte: int | None = None


@dataclass(frozen=True)
class DeliveryListQuery:
    page: ListQuery
    filter: DeliveryFilter


# Telnyx's event types (call.initiated, call.bridged, message.received ...): the filter takes any of
# them, as the SDKs' own type does (a string, no list of values); ovp's events match only its own.
_EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
MAX_EVENT_TYPE = 64


def _event_types(params: Mapping[str, str], problems: ProblemList) -> tuple[str, ...]:
    named = tuple(part.strip() for part in (params.get("filter[event_type]") or "").split(",") if part.strip())
    if any(len(name) > MAX_EVENT_TYPE or not _EVENT_TYPE.fullmatch(name) for name in named):
        code, title = BAD_VALUE
        problems.add(Problem(code, title, "filter[event_type] takes event types separated by commas, each "
                             f"as Telnyx names them (such as {', '.join(EVENT_TYPES)}).",
                             parameter="filter[event_type]"))
    return named


def parse_delivery_list_query(params: Mapping[str, str]) -> DeliveryListQuery:
    """Raises InvalidInput naming each bad parameter."""
    problems = ProblemList()
    page_number, page_size = parse_page(params, problems)
    found = DeliveryFilter(
        status=parse_choice(params, "filter[status][eq]", ("delivered", "failed"), problems),
        event_types=_event_types(params, problems),
        webhook_contains=parse_text(params, "filter[webhook][contains]", MAX_CONTAINS, problems),
        attempts_contains=parse_text(params, "filter[attempts][contains]", MAX_CONTAINS, problems),
        started_gte=parse_moment(params, "filter[started_at][gte]", problems),
        started_lte=parse_moment(params, "filter[started_at][lte]", problems),
        finished_gte=parse_moment(params, "filter[finished_at][gte]", problems),
        finished_lte=parse_moment(params, "filter[finished_at][lte]", problems),
    )
    problems.raise_if_any()
    return DeliveryListQuery(ListQuery(page_number, page_size), found)
