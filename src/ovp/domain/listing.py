"""The list query: page, name filter and sort, parsed from Telnyx's deepObject parameters."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from ovp.domain.errors import Problem, ProblemList
from ovp.domain.ids import parse_id
from ovp.domain.validation import BAD_LENGTH, BAD_VALUE, NOT_IN_ENUM, OUT_OF_RANGE, WRONG_TYPE

SORTABLE = ("enabled", "created_at", "name", "service_plan", "traffic_type", "usage_payment_method")
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 20
DEFAULT_SORT = "-created_at"
# As many pages as an int64 counts: a page past the end is answered empty, whichever it is.
MAX_PAGE_NUMBER = 2**63 - 1
NAME_FILTER = "filter[name][contains]"
MAX_FILTER_LENGTH = 255  # a name is at most this long, so a longer filter could never match
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class ListQuery:
    page_number: int = 1
    page_size: int = DEFAULT_PAGE_SIZE
    name_contains: str | None = None
    sort_field: str = "created_at"
    descending: bool = True

    @property
    def offset(self) -> int:
        return (self.page_number - 1) * self.page_size

    @property
    def page(self) -> ListQuery:
        """The page a list asks for: this query, as queries with more filters name theirs."""
        return self


@dataclass(frozen=True)
class PageMeta:
    page_number: int
    page_size: int
    total_pages: int
    total_results: int

    @classmethod
    def of(cls, query: ListQuery, total_results: int) -> PageMeta:
        total_pages = -(-total_results // query.page_size)
        return cls(query.page_number, query.page_size, total_pages, total_results)


def _integer(params: Mapping[str, str], name: str, default: int, low: int, high: int, problems: ProblemList) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not _INTEGER.fullmatch(text):
        code, title = WRONG_TYPE
        problems.add(Problem(code, title, f"{name} must be an integer.", parameter=name))
        return default
    # Compare as text first when it is long: Python refuses to parse integers of thousands of digits.
    value = int(text) if len(text) <= len(str(high)) + 1 else high + 1
    if not low <= value <= high:
        code, title = OUT_OF_RANGE
        problems.add(Problem(code, title, f"{name} must be between {low} and {high}.", parameter=name))
        return default
    return value


def parse_page(params: Mapping[str, str], problems: ProblemList) -> tuple[int, int]:
    """page[number] and page[size], each problem added to `problems`."""
    page_number = _integer(params, "page[number]", 1, 1, MAX_PAGE_NUMBER, problems)
    page_size = _integer(params, "page[size]", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, problems)
    return page_number, page_size


def parse_connection_filter(params: Mapping[str, str], problems: ProblemList) -> int | None:
    """filter[connection_id] of a list of a connection's addresses (IPs, FQDNs)."""
    raw = params.get("filter[connection_id]")
    if not raw:
        return None
    connection_id = parse_id(raw)
    if connection_id is None:
        code, title = BAD_VALUE
        problems.add(Problem(code, title, "filter[connection_id] must be a connection id such as "
                             "'1293384261075731499'.", parameter="filter[connection_id]"))
    return connection_id


def parse_port(text: str) -> int | None:
    """A port, 1 to 65535, in ASCII digits; None for anything else (`str.isdigit` alone lets
    through digits such as '²' that `int` refuses)."""
    if not (text.isascii() and text.isdigit() and len(text) <= 5):
        return None
    port = int(text)
    return port if 1 <= port <= 65535 else None


def parse_port_filter(params: Mapping[str, str], problems: ProblemList) -> int | None:
    """filter[port] of a list of a connection's addresses (IPs, FQDNs)."""
    raw = params.get("filter[port]")
    if not raw:
        return None
    port = parse_port(raw)
    if port is None:
        code, title = WRONG_TYPE
        problems.add(Problem(code, title, "filter[port] must be a port from 1 to 65535.", parameter="filter[port]"))
        return None
    return port


def parse_page_query(params: Mapping[str, str]) -> ListQuery:
    """A list that only pages: page[number] and page[size]. Raises InvalidInput naming each bad one."""
    problems = ProblemList()
    page_number, page_size = parse_page(params, problems)
    problems.raise_if_any()
    return ListQuery(page_number, page_size)


@dataclass(frozen=True)
class ListShape:
    """What the list of one kind of resource sorts by, and the query parameter of its name filter."""

    sortable: tuple[str, ...]
    name_filter: str
    min_filter_length: int = 1


PROFILE_LIST = ListShape(SORTABLE, NAME_FILTER)


def _name_contains(params: Mapping[str, str], shape: ListShape, problems: ProblemList) -> str | None:
    name = shape.name_filter
    name_contains = params.get(name) or None
    if name_contains is not None and not shape.min_filter_length <= len(name_contains) <= MAX_FILTER_LENGTH:
        code, title = BAD_LENGTH
        problems.add(Problem(code, title, f"{name} must be {shape.min_filter_length} to {MAX_FILTER_LENGTH} "
                             "characters long.", parameter=name))
    elif name_contains is not None and "\x00" in name_contains:
        code, title = BAD_VALUE
        problems.add(Problem(code, title, f"{name} must not contain NUL characters.", parameter=name))
    return name_contains


def read_list_query(params: Mapping[str, str], shape: ListShape, problems: ProblemList) -> ListQuery:
    """The page, sort and name filter, each problem added to `problems`."""
    page_number, page_size = parse_page(params, problems)
    sort = params.get("sort", DEFAULT_SORT)
    field = sort.removeprefix("-")
    if field not in shape.sortable:
        code, title = NOT_IN_ENUM
        allowed = ", ".join(f"{name}, -{name}" for name in shape.sortable)
        problems.add(Problem(code, title, f"sort must be one of: {allowed}.", parameter="sort"))
        field, sort = "created_at", DEFAULT_SORT
    return ListQuery(
        page_number=page_number,
        page_size=page_size,
        name_contains=_name_contains(params, shape, problems),
        sort_field=field,
        descending=sort.startswith("-"),
    )


def parse_list_query(params: Mapping[str, str], shape: ListShape = PROFILE_LIST) -> ListQuery:
    """Raises InvalidInput naming each bad parameter in `source.parameter`."""
    problems = ProblemList()
    query = read_list_query(params, shape, problems)
    problems.raise_if_any()
    return query


def parse_text(params: Mapping[str, str], name: str, max_length: int, problems: ProblemList) -> str | None:
    """The parameter as text of at most `max_length` characters; None when absent or empty, or bad
    (a problem). PostgreSQL keeps no NUL character in text, so a NUL could never match."""
    raw = params.get(name) or None
    if raw is not None and len(raw) > max_length:
        code, title = BAD_LENGTH
        problems.add(Problem(code, title, f"{name} is at most {max_length} characters.", parameter=name))
        return None
    if raw is not None and "\x00" in raw:
        code, title = BAD_VALUE
        problems.add(Problem(code, title, f"{name} must not contain NUL characters.", parameter=name))
        return None
    return raw


def parse_choice(params: Mapping[str, str], name: str, choices: tuple[str, ...], problems: ProblemList) -> str | None:
    """The parameter, one of `choices`; None when absent or empty (a problem when it is none of them)."""
    raw = params.get(name)
    if not raw:
        return None
    if raw not in choices:
        code, title = NOT_IN_ENUM
        problems.add(Problem(code, title, f"{name} must be one of: {', '.join(choices)}.", parameter=name))
        return None
    return raw


def parse_moment(params: Mapping[str, str], name: str, problems: ProblemList) -> int | None:
    """The parameter, an ISO 8601 time (UTC when it gives no offset), in epoch milliseconds."""
    raw = params.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        code, title = BAD_VALUE
        problems.add(Problem(code, title, f"{name} must be an ISO 8601 time such as '2026-01-31T00:00:00Z'.",
                             parameter=name))
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # as every time ovp answers
    return int(moment.timestamp() * 1000)
