"""The one error hierarchy. The domain and the store raise these; the HTTP edge renders them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Self


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a request, in the shape of one entry of Telnyx's `errors` array."""

    code: str
    title: str
    detail: str
    pointer: str | None = None
    parameter: str | None = None


def problems_at(problems: list[Problem], at: str) -> list[Problem]:
    """The problems of a part of a body (pointed at within it), pointed at within the whole, the
    part being at `at`."""
    return [Problem(problem.code, problem.title, problem.detail, pointer=at + (problem.pointer or ""))
            for problem in problems]


class OvpError(Exception):
    """Base of every error that reaches a client. Each subclass knows its HTTP status."""

    status: ClassVar[int] = 500

    def __init__(self, problems: list[Problem], headers: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(problem.detail for problem in problems))
        self.problems = problems
        self.headers = headers or {}

    @classmethod
    def single(cls, code: str, title: str, detail: str) -> Self:
        return cls([Problem(code=code, title=title, detail=detail)])


class BadRequest(OvpError):
    status = 400


class AuthenticationFailed(OvpError):
    status = 401

    def __init__(self, detail: str = "The API key is missing, unknown or revoked.") -> None:
        super().__init__(
            [Problem(code="10009", title="Authentication failed", detail=detail)], {"WWW-Authenticate": "Bearer"}
        )


class NotFound(OvpError):
    status = 404
    DEFAULT_DETAIL = "The requested resource or URL could not be found."

    def __init__(self, detail: str = DEFAULT_DETAIL) -> None:
        super().__init__([Problem(code="10005", title="Resource not found", detail=detail)])


class MethodNotAllowed(OvpError):
    status = 405

    def __init__(self, allowed: str) -> None:
        super().__init__(
            [Problem(code="10015", title="Method Not Allowed", detail=f"This URL accepts only {allowed}.")],
            {"Allow": allowed},
        )


class RequestTimeout(OvpError):
    """408: the body did not arrive in time; the connection closes, what is left of it unread."""

    status = 408

    def __init__(self, detail: str) -> None:
        super().__init__([Problem(code="10015", title="Request Timeout", detail=detail)], {"Connection": "close"})


class PayloadTooLarge(OvpError):
    status = 413


class UriTooLong(OvpError):
    status = 414

    def __init__(self, limit: int) -> None:
        super().__init__([Problem(code="10015", title="URI Too Long",
                                  detail=f"The request's URL is longer than {limit} bytes.")])


class HeadersTooLarge(OvpError):
    status = 431

    def __init__(self, limit: int) -> None:
        super().__init__([Problem(code="10015", title="Request Header Fields Too Large",
                                  detail=f"The request's line and headers are longer than {limit} bytes.")])


class UnsupportedMediaType(OvpError):
    status = 415


class InvalidInput(OvpError):
    """422: the request is well-formed but breaks the rules; every problem is listed."""

    status = 422


class ResourceInUse(OvpError):
    """422: the resource cannot be deleted while others still use it."""

    status = 422

    def __init__(self, detail: str) -> None:
        super().__init__([Problem(code="10021", title="Resource in use", detail=detail)])


class TooManyRequests(OvpError):
    status = 429


class ServiceUnavailable(OvpError):
    """503: the database cannot serve for the moment (unreachable, too slow, locked, out of disk).
    It passes; `Retry-After` says when to try again."""

    status = 503
    RETRY_AFTER_SECONDS = 1
    DEFAULT_DETAIL = "The database is unavailable for the moment; try again shortly."

    def __init__(self, detail: str = DEFAULT_DETAIL) -> None:
        super().__init__(
            [Problem(code="10007", title="Service unavailable", detail=detail)],
            {"Retry-After": str(self.RETRY_AFTER_SECONDS)},
        )


class Contended(ServiceUnavailable):
    """Another request held or changed what this one needed: a 503 to the client, who may try
    again at once, and for a group commit a sign to run its writes again one by one rather than
    the database being down."""


class LockWaitExpired(Contended):
    """A row lock stayed held past the wait allowed for it."""

    def __init__(self) -> None:
        super().__init__("A row this request needs stayed locked by another request; try again shortly.")


class ConcurrentChange(Contended):
    """A unique value (a connection's user_name) was taken by a request that committed while this
    one was under way. Tried again, the request gets the clear answer (the value is taken)."""

    def __init__(self) -> None:
        super().__init__("Another request changed the same data at the same moment; try again.")


class Unexpected(OvpError):
    status = 500

    def __init__(self, detail: str = "An unexpected error occurred.") -> None:
        super().__init__([Problem(code="10007", title="Unexpected error", detail=detail)])


@dataclass
class ProblemList:
    """Collects problems so that a request with several of them reports all at once."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    def raise_if_any(self) -> None:
        if self.problems:
            raise InvalidInput(self.problems)


def in_one_line(error: BaseException) -> str:
    """An error as one line of a log, its whitespace folded; its type's name when it says nothing."""
    return " ".join(str(error).split()) or type(error).__name__
