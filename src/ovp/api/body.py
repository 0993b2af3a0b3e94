"""Reads a request's JSON body: media type, a size cap enforced while reading, and JSON syntax."""

from __future__ import annotations

import orjson
from starlette.requests import Request

from ovp.domain.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType

MAX_BODY_BYTES = 1024 * 1024


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def _too_large() -> PayloadTooLarge:
    return PayloadTooLarge.single(
        "10015", "Bad Request", f"The request body is larger than {MAX_BODY_BYTES} bytes."
    )


async def read_json(request: Request) -> object:
    if not _is_json(request.headers.get("content-type", "")):
        raise UnsupportedMediaType.single(
            "10015", "Bad Request", "The request body must be JSON, sent with Content-Type: application/json."
        )
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    try:
        return orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as error:
        raise BadRequest.single("10023", "Invalid JSON", f"The request body is not valid JSON: {error}.") from None
