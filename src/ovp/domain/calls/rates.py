"""A rate deck as CSV: one destination prefix and its per-minute rate (USD) a line.

    prefix,rate
    1,0.0100
    1415,0.0050
    44,0.0200

The header is optional; with one, the columns are found by name and any others (a description, a
country) are ignored, so carriers' decks load as they come. Every bad line is reported at once,
with the pointer /lines/N/column (N counts from 1, the header included).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Generator, Iterator
from decimal import Decimal, InvalidOperation

from ovp.domain.errors import InvalidInput, Problem
from ovp.domain.validation import BAD_VALUE, MAX_PROBLEMS, MISSING, OUT_OF_RANGE

PREFIX = re.compile(r"\+?([0-9]{1,15})")
MAX_RATE = Decimal(1000)
RATE_DECIMALS = 6


def _problem(kind: tuple[str, str], line: int, column: str, detail: str) -> Problem:
    code, title = kind
    return Problem(code, title, f"line {line}: {detail}", pointer=f"/lines/{line}/{column}")


def parse_rate(text: str) -> Decimal | None:
    """A per-minute rate: a plain decimal from 0 up to 1000, with at most six decimals."""
    try:
        rate = Decimal(text.strip())
    except InvalidOperation:
        return None
    exponent = rate.as_tuple().exponent
    if not rate.is_finite() or not isinstance(exponent, int) or -exponent > RATE_DECIMALS:
        return None
    if not 0 <= rate < MAX_RATE:
        return None
    # Written back plainly: "1e2" reads as 100, and "-0" as 0.
    return Decimal(format(rate.copy_abs(), "f"))


def _columns(header: list[str]) -> tuple[int, int] | None:
    names = [cell.strip().lower() for cell in header]
    if "prefix" in names and "rate" in names:
        return names.index("prefix"), names.index("rate")
    return None


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """The CSV's rows and their line numbers; text the csv module cannot read (a field over its size
    limit, a NUL) is a 422 naming the line."""
    reader = csv.reader(io.StringIO(text))
    try:
        for row in reader:
            yield reader.line_num, row
    except csv.Error as error:
        code, title = BAD_VALUE
        line = reader.line_num
        raise InvalidInput([Problem(code, title, f"line {line}: {error}", pointer=f"/lines/{line}")]) from None


def parse_rate_deck(text: str) -> dict[str, Decimal]:
    """The deck's rates by prefix (E.164 digits without "+"); raises InvalidInput listing every
    bad line."""
    steps = rate_deck_steps(text)
    while (deck := advance(steps)) is None:
        pass
    return deck


def advance(steps: Generator[None, None, dict[str, Decimal]]) -> dict[str, Decimal] | None:
    """One step of a deck's check (see rate_deck_steps): the deck once the last step is done, else None."""
    try:
        next(steps)
    except StopIteration as done:
        deck: dict[str, Decimal] = done.value
        return deck
    return None


def rate_deck_steps(text: str, lines_a_step: int = 1000) -> Generator[None, None, dict[str, Decimal]]:
    """parse_rate_deck in steps: it pauses (yields) after every `lines_a_step` lines, so that a
    server can answer others between steps, and returns the deck."""
    rows = _rows(text)
    first = next(rows, None)
    columns = _columns(first[1]) if first else None
    prefix_at, rate_at = columns or (0, 1)
    rates: dict[str, Decimal] = {}
    problems: list[Problem] = []
    data = rows if columns or first is None else itertools.chain([first], rows)
    for count, (line, row) in enumerate(data, start=1):
        if count % lines_a_step == 0:
            yield
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(prefix_at, rate_at):
            problems.append(_problem(MISSING, line, "rate", "a line needs a prefix and a rate"))
        else:
            problems.extend(_add_line(rates, line, row[prefix_at], row[rate_at]))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InvalidInput(problems[:MAX_PROBLEMS])
    return rates


def _add_line(rates: dict[str, Decimal], line: int, prefix_text: str, rate_text: str) -> list[Problem]:
    problems = []
    prefix = PREFIX.fullmatch(prefix_text.strip())
    if prefix is None:
        problems.append(_problem(BAD_VALUE, line, "prefix", f"{prefix_text!r} is not 1 to 15 digits"))
    elif prefix.group(1) in rates:
        problems.append(_problem(BAD_VALUE, line, "prefix", f"prefix {prefix.group(1)} appears twice"))
    rate = parse_rate(rate_text)
    if rate is None:
        problems.append(_problem(OUT_OF_RANGE, line, "rate",
                                 f"{rate_text!r} is not a rate from 0 to 1000 with at most six decimals"))
    if prefix is not None and rate is not None and not problems:
        rates[prefix.group(1)] = rate
    return problems
