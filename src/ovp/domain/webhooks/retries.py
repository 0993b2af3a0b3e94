"""When to try a webhook again: after about a second, then twice as long each time (with jitter,
so a receiver that comes back is not hit by every event at once), at most every ten minutes, for
a day; then the delivery has failed."""

from __future__ import annotations

import random

FIRST_RETRY_S = 1.0
MAX_INTERVAL_S = 600.0
GIVE_UP_AFTER_S = 24 * 3600.0
JITTER = 0.25  # each wait is drawn within ±25% of its nominal length


def next_attempt_ms(failures: int, now_ms: int, created_ms: int, rng: random.Random | None = None) -> int | None:
    """When to try again after `failures` failed attempts (1 or more); None once a day has passed
    since the event was written."""
    nominal = min(MAX_INTERVAL_S, FIRST_RETRY_S * 2 ** min(failures - 1, 30))
    wait_s = nominal * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    due = now_ms + round(wait_s * 1000)
    return None if due - created_ms > GIVE_UP_AFTER_S * 1000 else due
