"""A rate limit as operators write it: '100/second', '6000/minute', '10 per 1 second'; '0' for none."""

from __future__ import annotations

from functools import lru_cache

from limits import RateLimitItem, parse

NONE = "0"


class RateLimitSyntaxError(ValueError):
    pass


@lru_cache(maxsize=64)
def parse_rate_limit(text: str) -> RateLimitItem | None:
    """The limit `text` gives; None for no limit."""
    if text.strip() == NONE:
        return None
    try:
        return parse(text)
    except ValueError as error:
        raise RateLimitSyntaxError(f"{text!r} is not a rate limit such as 100/second, or 0 for none") from error


def described(item: RateLimitItem) -> str:
    """The limit in words, as it was given: '2 requests a second', '10 requests per 5 seconds'."""
    requests = f"{item.amount} request{'s' if item.amount != 1 else ''}"
    unit = item.GRANULARITY.name
    return f"{requests} a {unit}" if item.multiples == 1 else f"{requests} per {item.multiples} {unit}s"
