"""Table-driven tests of the list query."""

from __future__ import annotations

import pytest

from ovp.domain.errors import InvalidInput
from ovp.domain.listing import ListQuery, PageMeta, parse_list_query


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ListQuery()),
        ({"page[number]": "3", "page[size]": "250"}, ListQuery(page_number=3, page_size=250)),
        ({"sort": "name"}, ListQuery(sort_field="name", descending=False)),
        ({"sort": "-enabled"}, ListQuery(sort_field="enabled", descending=True)),
        ({"filter[name][contains]": "Off"}, ListQuery(name_contains="Off")),
        ({"filter[name][contains]": ""}, ListQuery()),
    ],
)
def test_parses(params: dict[str, str], expected: ListQuery) -> None:
    assert parse_list_query(params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"page[size]": "0"}, [("10033", "page[size]")]),
        ({"page[size]": "251"}, [("10033", "page[size]")]),
        ({"page[number]": "0"}, [("10033", "page[number]")]),
        ({"page[number]": "two"}, [("10026", "page[number]")]),
        ({"sort": "id"}, [("10032", "sort")]),
        ({"page[size]": "x", "sort": "--name"}, [("10026", "page[size]"), ("10032", "sort")]),
    ],
)
def test_rejects_each_bad_parameter_by_name(params: dict[str, str], expected: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_list_query(params)
    assert [(p.code, p.parameter) for p in caught.value.problems] == expected


@pytest.mark.parametrize(
    ("total", "size", "pages"), [(0, 20, 0), (1, 20, 1), (20, 20, 1), (21, 20, 2), (55, 25, 3)]
)
def test_total_pages(total: int, size: int, pages: int) -> None:
    assert PageMeta.of(ListQuery(page_size=size), total).total_pages == pages
