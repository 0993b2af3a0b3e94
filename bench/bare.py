"""The HTTP ceiling: a bare ASGI app, served as `ovp serve` serves ovp (Granian, one worker, no
access log), answering a JSON body the size of a profile. No server in front of ovp's code can
answer faster than this on the same machine in the same run, so ovp's figures are stated as a
share of it."""

from __future__ import annotations

from typing import Any

import orjson

BODY = orjson.dumps({"data": {"id": "1293384261075731499", "name": "office", "padding": "x" * 700}})
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
