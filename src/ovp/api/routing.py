"""Routes: a path template such as /v2/outbound_voice_profiles/{id}, and a handler for each method."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ovp.api.http import Request, Response

Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Route:
    template: str
    pattern: re.Pattern[str]
    handlers: dict[str, Handler]
    public: bool = False
    in_api: bool = True

    @classmethod
    def at(cls, template: str, handlers: dict[str, Handler], *, public: bool = False, in_api: bool = True) -> Route:
        """`public` routes need no API key (health probes, the OpenAPI document); routes not `in_api`
        serve people rather than programs (the docs page), and the OpenAPI document leaves them out."""
        regex = re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(template))
        return cls(template, re.compile(regex), handlers, public, in_api)

    @property
    def allowed(self) -> str:
        methods = set(self.handlers) | ({"HEAD"} if "GET" in self.handlers else set())
        return ", ".join(sorted(methods))


@dataclass(frozen=True)
class Match:
    route: Route
    path_params: dict[str, str]


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes
        # Paths without parameters are looked up directly; only the rest pay for a regex.
        self._exact = {route.template: route for route in routes if "{" not in route.template}
        self._templated = [route for route in routes if "{" in route.template]

    def match(self, path: str) -> Match | None:
        exact = self._exact.get(path)
        if exact is not None:
            return Match(exact, {})
        for route in self._templated:
            found = route.pattern.fullmatch(path)
            if found is not None:
                return Match(route, found.groupdict())
        return None
