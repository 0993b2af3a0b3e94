"""Routes: a path template such as /v2/outbound_voice_profiles/{id}, and a handler for each method."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ovp.api.http import Request, Response

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    pattern: re.Pattern[str]
    handlers: dict[str, Handler]
    public: bool = False

    @classmethod
    def at(cls, template: str, handlers: dict[str, Handler], *, public: bool = False) -> Route:
        """`public` routes need no API key (health probes, the OpenAPI document)."""
        regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
        return cls(re.compile(regex), handlers, public)

    @property
    def allowed(self) -> str:
        return ", ".join(sorted(self.handlers))


@dataclass(frozen=True)
class Match:
    route: Route
    path_params: dict[str, str]


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def match(self, path: str) -> Match | None:
        for route in self.routes:
            found = route.pattern.fullmatch(path)
            if found is not None:
                return Match(route, found.groupdict())
        return None
