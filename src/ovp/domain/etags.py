"""Entity tags for opt-in optimistic concurrency: a profile's ETag names its revision, and a PATCH
or DELETE sent with If-Match applies only while the profile is still at a revision it names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from ovp.domain.errors import OvpError, Problem

T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Revised(Generic[T_co]):
    """A resource and the revision it is at (1 when created, one more at each change)."""

    value: T_co
    revision: int

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'


class PreconditionFailed(OvpError):
    status = 412

    def __init__(self) -> None:
        super().__init__(
            [Problem(code="10015", title="Precondition Failed",
                     detail="The resource has changed since the ETag given in If-Match; read it again.")]
        )


def check_if_match(if_match: str | None, current: Revised[object]) -> None:
    """RFC 9110: `*` matches any current revision; otherwise one of the listed strong tags must be
    the current one (a weak tag, W/"...", never matches)."""
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or current.etag in tags:
        return
    raise PreconditionFailed()
