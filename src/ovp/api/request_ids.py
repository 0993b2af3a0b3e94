"""Request ids: taken from the request's X-Request-Id when it sends a sane one, else made; returned
on every answer and carried by every log line written while the request is handled."""

from __future__ import annotations

import random
import re
from contextvars import ContextVar

HEADER = "x-request-id"
# What a client may choose as its id: printable ASCII without spaces, as tracing systems make them.
ACCEPTED = re.compile(r"[!-~]{1,128}")

current_request_id: ContextVar[str] = ContextVar("ovp_request_id", default="-")


def new_request_id() -> str:
    # An id needs to be unique, not unguessable: Python's generator (seeded from the system's, and
    # again in a forked child) instead of a system call per request, which took a fifth of a
    # worker's time under a flood.
    return f"{random.getrandbits(128):032x}"


def request_id_from(sent: str | None) -> str:
    return sent if sent is not None and ACCEPTED.fullmatch(sent) else new_request_id()
