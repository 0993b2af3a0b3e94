"""A tiny ASGI app for tests/server/test_granian.py: it answers the method and the body it read,
or, for a body that never arrived whole, notes the disconnect it was told of; GET /slow takes a
second; POST /close answers with `Connection: close`."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import orjson

NOTES = Path(os.environ.get("ECHO_NOTES", "/dev/null"))


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            with NOTES.open("a") as notes:
                notes.write("disconnect\n")
            return
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    if scope["path"] == "/slow":
        await asyncio.sleep(1)
    answer = orjson.dumps({"method": scope["method"], "body": body.decode()})
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    if scope["path"] == "/close":
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})
