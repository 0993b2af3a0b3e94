"""Fault injection: the next N matching requests of an account fail, or answer late."""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ovp.domain.errors import InvalidInput, OvpError, Problem, ServiceUnavailable, TooManyRequests, Unexpected
from ovp.domain.validation import body_problems

INJECTED = "a fault injected through ovp's admin surface"
RATE_LIMIT = 100
RATE_LIMIT_RESET_S = 1


class FaultRequest(BaseModel):
    """What a client sends to arm a fault."""

    model_config = ConfigDict(extra="forbid", strict=True)

    method: Literal["GET", "POST", "PATCH", "DELETE", "*"] = "*"
    path: str = Field(default="/v2/*", min_length=1, max_length=255)
    times: int = Field(default=1, ge=1, le=10_000)
    status: Literal[429, 500, 503] | None = None
    delay_ms: int = Field(default=0, ge=0, le=30_000)


@dataclass(frozen=True)
class Fault:
    id: int
    method: str
    path: str
    remaining: int
    status: int | None
    delay_ms: int

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and fnmatch.fnmatchcase(path, self.path)

    def error(self) -> OvpError | None:
        """The error this fault answers with; None for a delay alone."""
        if self.status == 429:
            return TooManyRequests(
                [Problem(code="10011", title="Too many requests",
                         detail=f"Rate limit exceeded ({INJECTED}).")],
                {"x-ratelimit-limit": str(RATE_LIMIT), "x-ratelimit-remaining": "0",
                 "x-ratelimit-reset": str(RATE_LIMIT_RESET_S), "Retry-After": str(RATE_LIMIT_RESET_S)},
            )
        if self.status == 500:
            return Unexpected(f"An unexpected error occurred ({INJECTED}).")
        if self.status == 503:
            return ServiceUnavailable(f"Service unavailable for the moment ({INJECTED}); try again shortly.")
        return None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_fault(body: object) -> FaultRequest:
    try:
        return FaultRequest.model_validate(body)
    except ValidationError as error:
        raise InvalidInput(body_problems(error)) from None


class FaultBook:
    def __init__(self) -> None:
        self._faults: dict[str, list[Fault]] = {}
        self._next_id = 1

    def arm(self, account_id: str, request: FaultRequest) -> Fault:
        fault = Fault(self._next_id, request.method, request.path, request.times, request.status, request.delay_ms)
        self._next_id += 1
        self._faults.setdefault(account_id, []).append(fault)
        return fault

    def take(self, account_id: str, method: str, path: str) -> Fault | None:
        """The first armed fault that matches, used up by one; None when none matches."""
        faults = self._faults.get(account_id, [])
        for index, fault in enumerate(faults):
            if fault.matches(method, path):
                if fault.remaining == 1:
                    del faults[index]
                else:
                    faults[index] = replace(fault, remaining=fault.remaining - 1)
                return fault
        return None

    def armed(self, account_id: str) -> list[Fault]:
        return list(self._faults.get(account_id, []))

    def clear(self, account_id: str | None = None) -> None:
        if account_id is None:
            self._faults.clear()
        else:
            self._faults.pop(account_id, None)
