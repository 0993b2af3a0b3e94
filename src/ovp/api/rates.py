"""Handlers for /ovp/rates: the account's rate deck, replaced whole from CSV and read by page."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from decimal import Decimal

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.calls.rates import advance, rate_deck_steps
from ovp.domain.errors import Problem, ProblemList
from ovp.domain.fields import MAX_E164_DIGITS
from ovp.domain.listing import ListQuery, PageMeta, parse_page
from ovp.domain.validation import BAD_VALUE
from ovp.store import rates as store

PREFIX_FILTER = "filter[prefix]"


async def replace_deck(request: Request) -> Response:
    deck = await _checked_deck(await request.csv_text())
    account_id = request.account_id
    loaded = await request.app.database.write_long(lambda tx: store.replace_deck(tx, account_id, deck))
    return json_response({"data": {"record_type": "rate_deck", "rates_count": loaded}})


async def _checked_deck(text: str) -> dict[str, Decimal]:
    """Checks a deck a step at a time, letting other requests in between: 65,535 lines take some
    170 ms here. (On a thread instead, the checking held the interpreter's lock in turns of 5 ms
    against the event loop, and GETs beside it waited for each turn.)"""
    steps = rate_deck_steps(text)
    while (deck := advance(steps)) is None:
        await asyncio.sleep(0)
    return deck


async def list_rates(request: Request) -> Response:
    params = request.query
    problems = ProblemList()
    page_number, page_size = parse_page(params, problems)
    starts = params.get(PREFIX_FILTER, "").removeprefix("+")
    if starts and not (starts.isascii() and starts.isdigit() and len(starts) <= MAX_E164_DIGITS):
        code, title = BAD_VALUE
        problems.add(Problem(code, title, f"{PREFIX_FILTER} must be 1 to 15 digits.", parameter=PREFIX_FILTER))
    problems.raise_if_any()
    query, account_id = ListQuery(page_number=page_number, page_size=page_size), request.account_id
    page, total = await request.app.database.read(
        lambda tx: store.page(tx, account_id, starts, query.page_size, query.offset)
    )
    data = [{"record_type": "rate", "prefix": rate.prefix, "rate": str(rate.per_minute), "currency": "USD"}
            for rate in page]
    return json_response({"data": data, "meta": asdict(PageMeta.of(query, total))})


routes = [Route.at("/ovp/rates", {"GET": list_rates, "PUT": replace_deck})]
