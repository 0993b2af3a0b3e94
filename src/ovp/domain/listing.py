"""The list query: page, name filter and sort, parsed from Telnyx's deepObject parameters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ovp.domain.errors import Problem, ProblemList
from ovp.domain.validation import NOT_IN_ENUM, OUT_OF_RANGE, WRONG_TYPE

SORTABLE = ("enabled", "created_at", "name", "service_plan", "traffic_type", "usage_payment_method")
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 20
DEFAULT_SORT = "-created_at"


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


def _integer(params: Mapping[str, str], name: str, default: int, low: int, high: int | None,
             problems: ProblemList) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not (text.lstrip("-").isascii() and text.lstrip("-").isdigit()):
        code, title = WRONG_TYPE
        problems.add(Problem(code, title, f"{name} must be an integer.", parameter=name))
        return default
    value = int(text)
    if value < low or (high is not None and value > high):
        code, title = OUT_OF_RANGE
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        problems.add(Problem(code, title, f"{name} must be {bounds}.", parameter=name))
        return default
    return value


def parse_list_query(params: Mapping[str, str]) -> ListQuery:
    """Raises InvalidInput naming each bad parameter in `source.parameter`."""
    problems = ProblemList()
    page_number = _integer(params, "page[number]", 1, 1, None, problems)
    page_size = _integer(params, "page[size]", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE, problems)
    sort = params.get("sort", DEFAULT_SORT)
    field = sort.removeprefix("-")
    if field not in SORTABLE:
        code, title = NOT_IN_ENUM
        allowed = ", ".join(f"{name}, -{name}" for name in SORTABLE)
        problems.add(Problem(code, title, f"sort must be one of: {allowed}.", parameter="sort"))
        field, sort = "created_at", DEFAULT_SORT
    problems.raise_if_any()
    return ListQuery(
        page_number=page_number,
        page_size=page_size,
        name_contains=params.get("filter[name][contains]") or None,
        sort_field=field,
        descending=sort.startswith("-"),
    )
