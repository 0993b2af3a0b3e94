"""What the emulator (open mode) does on a request's way: it journals it, and injects the faults a
test armed for it."""

from __future__ import annotations

import asyncio
import time

from ovp.api import admin
from ovp.api.context import Emulator
from ovp.api.http import MAX_CSV_BYTES, Request
from ovp.emulator.journal import JournalEntry


def journaled(request: Request) -> bool:
    """Requests of an account to the API itself; not the probes, nor the admin surface."""
    return bool(request.account_id) and not request.scope["path"].startswith(admin.PREFIX)


def entry(request: Request, status: int, ignored_fields: list[str]) -> JournalEntry:
    scope = request.scope
    return JournalEntry.of(scope["method"], scope["path"], scope["query_string"], request.raw_body, status,
                           time.time_ns(), tuple(ignored_fields))


async def inject_fault(emulator: Emulator, request: Request) -> None:
    fault = emulator.faults.take(request.account_id, request.method, request.scope["path"])
    if fault is None:
        return
    # The journal keeps what the client sent, most of all when a test injected a fault to see what
    # its code sends then; the handler reads the same bytes afterwards.
    await request.raw(MAX_CSV_BYTES)
    if fault.delay_ms:
        await asyncio.sleep(fault.delay_ms / 1000)
    error = fault.error()
    if error is not None:
        raise error
