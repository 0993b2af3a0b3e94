"""Rate limits per API key, answered as Telnyx answers them: 429 with code 10011, and
`x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds) on every answer.

The counts live in `limits`' storage: in the process for one worker, or in a store that the
workers and servers of a deployment share (Redis), so the limit holds for the whole deployment.
Windows are fixed (a window of one second, say, starting on the second): two windows' worth can
pass across a boundary, which is what Telnyx's own answers suggest too. A store that cannot be
reached lets requests through rather than failing them: the log says so once.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits.aio.strategies import FixedWindowRateLimiter
from limits.storage import storage_from_string

from ovp.domain.errors import Problem, TooManyRequests
from ovp.domain.rate_limit import described, parse_rate_limit

log = logging.getLogger("ovp")


def storage_uri(given: str | None) -> str:
    """limits' asynchronous storage for a URL as operators write it (redis://host:6379)."""
    if not given:
        return "async+memory://"
    return given if given.startswith("async+") else "async+" + given


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    headers: dict[str, str]
    limit: str  # in words, as it was given

    def refusal(self) -> TooManyRequests:
        detail = f"Rate limit exceeded: at most {self.limit} for this key."
        return TooManyRequests([Problem(code="10011", title="Too many requests", detail=detail)],
                               {**self.headers, "Retry-After": self.headers["x-ratelimit-reset"]})


class RateLimiter:
    def __init__(self, default: str, storage: str | None = None) -> None:
        """`default`: the limit of a key without one of its own ('0': none)."""
        self._default = default
        uri = storage_uri(storage)
        # redis-py's asyncio client (limits' default, coredis, pins an older `packaging`).
        options = {"implementation": "redispy"} if uri.startswith("async+redis") else {}
        self._window = FixedWindowRateLimiter(storage_from_string(uri, **options))
        self._unreachable = False

    async def check(self, key_id: str, own: str | None) -> Verdict | None:
        """Counts a request of the key; None when no limit applies (or the store is unreachable)."""
        item = parse_rate_limit(own if own is not None else self._default)
        if item is None:
            return None
        try:
            allowed = await self._window.hit(item, key_id)
            stats = await self._window.get_window_stats(item, key_id)
        except Exception as error:  # the store's own errors (redis unreachable): let the request through
            if not self._unreachable:
                log.warning("rate limits not enforced: their store cannot be reached: %s", error)
                self._unreachable = True
            return None
        if self._unreachable:
            log.warning("rate limits enforced again: their store answers")
            self._unreachable = False
        reset = max(0, math.ceil(stats.reset_time - time.time()))
        return Verdict(allowed, {"x-ratelimit-limit": str(item.amount), "x-ratelimit-remaining": str(stats.remaining),
                                 "x-ratelimit-reset": str(reset)}, described(item))
