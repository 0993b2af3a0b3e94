"""The little HTTP vocabulary ovp's handlers speak: a request, a response, and reading a JSON body.

ovp answers on a plain ASGI callable rather than a framework: on this 2-core machine a Starlette
"hello" answered about 7,800 requests/s under uvicorn and a bare ASGI app about 17,000, and the
difference (some 70 µs a request) is a third of a PATCH's budget at 5,000 requests/s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson

from ovp.api.asgi import Message, Receive, Scope, Send
from ovp.api.context import AppContext
from ovp.domain.errors import BadRequest, OvpError, PayloadTooLarge, Problem, RequestTimeout, UnsupportedMediaType

MAX_BODY_BYTES = 1024 * 1024
# A carrier's whole rate deck: some 15 bytes a line, so about a million lines.
MAX_CSV_BYTES = 16 * 1024 * 1024
_READ_HEADERS = frozenset({
    b"accept", b"authorization", b"content-type", b"content-length", b"if-match", b"transfer-encoding",
    b"x-request-id",
})
ERRORS_URL = "https://developers.telnyx.com/docs/overview/errors/"


class ClientGone(Exception):
    """The client went away before its request arrived whole: it is dropped, never applied."""


@dataclass(slots=True)
class Request:
    scope: Scope
    receive: Receive
    path_params: dict[str, str]
    headers: dict[str, str]
    app: AppContext
    account_id: str = ""
    body: object = None  # the parsed JSON body, once read
    raw_body: bytes | None = None  # the body as it came, once read
    response_headers: dict[str, str] = field(default_factory=dict)  # added to whatever the answer is

    @classmethod
    def of(cls, scope: Scope, receive: Receive, app: AppContext) -> Request:
        # Header names arrive lower-cased from every ASGI server; a repeated header keeps its last
        # value. Only the headers ovp reads are decoded.
        headers = {
            name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"] if name in _READ_HEADERS
        }
        return cls(scope=scope, receive=receive, path_params={}, headers=headers, app=app)

    @property
    def method(self) -> str:
        method: str = self.scope["method"]
        return method

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.scope["query_string"].decode("latin-1"), keep_blank_values=True))

    async def json(self) -> object:
        """The body as JSON: the media type is checked, and the size capped while it is read."""
        raw = await self._body_of(_is_json(self._media_type), "JSON, sent with Content-Type: application/json",
                                  MAX_BODY_BYTES)
        try:
            self.body = orjson.loads(raw)
            return self.body
        except orjson.JSONDecodeError as error:
            raise BadRequest.single("10023", "Invalid JSON", f"The request body is not valid JSON: {error}.") from None

    async def csv_text(self) -> str:
        """The body as CSV text (UTF-8, a byte order mark allowed), checked as json() checks JSON."""
        raw = await self._body_of(self._media_type == "text/csv", "CSV, sent with Content-Type: text/csv",
                                  MAX_CSV_BYTES)
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            raise BadRequest.single("10015", "Bad Request", f"The request body is not UTF-8 text: {error}.") from None

    @property
    def _media_type(self) -> str:
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    async def _body_of(self, accepted: bool, described: str, limit: int) -> bytes:
        if not accepted:
            raise UnsupportedMediaType.single("10015", "Bad Request", f"The request body must be {described}.")
        return await self.raw(limit)

    async def raw(self, limit: int = MAX_BODY_BYTES) -> bytes:
        """The body's bytes, read once (up to `limit`) and kept: the journal records them whatever
        the answer, a fault's included."""
        if self.raw_body is not None:
            return self.raw_body
        text = self.headers.get("content-length", "")
        declared = int(text) if text.isdigit() else None
        if declared is not None and declared > limit:
            raise _too_large(limit)
        # Beside a Transfer-Encoding the declared length means nothing (RFC 9112, 6.3): such a body
        # is read to its end.
        length = None if "transfer-encoding" in self.headers else declared
        self.raw_body = await self._read_body(limit, length)
        return self.raw_body

    async def _read_body(self, limit: int, length: int | None) -> bytes:
        """The body, which must arrive within the body timeout (408 past it: the connection closes,
        the rest of the body unread)."""
        seconds = self.app.settings.body_timeout
        try:
            async with asyncio.timeout(seconds):
                return await self._read_chunks(limit, length)
        except TimeoutError:
            raise RequestTimeout(f"The request's body did not arrive within {seconds:g} s.") from None

    async def _read_chunks(self, limit: int, length: int | None) -> bytes:
        """The body's chunks, up to `limit`; `length` is the declared Content-Length, if any."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self.receive()
            if message["type"] == "http.disconnect":
                # Not the end of the body: a request that never arrived whole must not be applied.
                raise ClientGone()
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            chunks.append(chunk)
            # Granian marks every chunk with more_body and ends the body with an empty message:
            # once the declared length is all here the body is whole, and asking for that message
            # would cost the event loop one more hand-off with the server's thread.
            if not message.get("more_body", False) or size == length:
                break
        return b"".join(chunks)


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge.single("10015", "Bad Request", f"The request body is larger than {limit} bytes.")


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = "application/json"
    # A body sent as it is made, chunk by chunk, after `body` (an export of any length, in
    # constant memory); None: `body` is the whole of it.
    stream: AsyncIterator[bytes] | None = None


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status, orjson.dumps(content), headers or {})


def problem_json(problem: Problem) -> dict[str, Any]:
    entry: dict[str, Any] = {"code": problem.code, "title": problem.title, "detail": problem.detail}
    if problem.pointer is not None:
        entry["source"] = {"pointer": problem.pointer}
    elif problem.parameter is not None:
        entry["source"] = {"parameter": problem.parameter}
    entry["meta"] = {"url": ERRORS_URL + problem.code}
    return entry


def error_response(error: OvpError) -> Response:
    """The one place where errors become Telnyx envelopes."""
    envelope = {"errors": [problem_json(problem) for problem in error.problems]}
    return json_response(envelope, error.status, error.headers)


_JSON = b"application/json"


async def send_response(send: Send, response: Response, *, include_body: bool) -> None:
    """Sends the response; a streamed one chunked, each chunk sent once the server has taken the
    one before. A stream that fails half way raises: the server then drops the connection, so that
    a client never takes half a body for the whole."""
    length = [] if response.stream is not None else [(b"content-length", b"%d" % len(response.body))]
    headers = [
        (b"content-type", _JSON if response.media_type == "application/json" else response.media_type.encode()),
        *length,
        *((name.lower().encode(), value.encode()) for name, value in response.headers.items()),
    ]
    start: Message = {"type": "http.response.start", "status": response.status, "headers": headers}
    await send(start)
    if response.stream is None or not include_body:
        await send({"type": "http.response.body", "body": response.body if include_body else b""})
        return
    await send({"type": "http.response.body", "body": response.body, "more_body": True})
    async for chunk in response.stream:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})
