"""How a client's changes apply to a stored document, the same for every resource."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Defaults = Callable[[], Mapping[str, Any]]


def merge_patch(
    document: Mapping[str, Any], changes: Mapping[str, Any], nested: Mapping[str, Defaults], now: str
) -> dict[str, Any]:
    """The document with the changes applied as a JSON merge patch (RFC 7396): the nested objects
    named in `nested` merge field by field, arrays are replaced whole, and `null` for a nested
    object restores its defaults. `updated_at` moves to `now`."""
    updated = dict(document)
    for field, value in changes.items():
        if field in nested:
            base = updated[field] if value is not None else nested[field]()
            updated[field] = {**base, **(value or {})}
        else:
            updated[field] = value
    updated["updated_at"] = now
    return updated
