"""The three measured requests, and the wrk Lua script that makes wrk send each one.

One definition serves both the wrk script and the single checked request sent before the
load, so the two can never drift: a scenario that answers anything but 2xx is caught
once, with its body shown, instead of as thousands of anonymous non-2xx responses.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson

COLLECTION = "/v2/outbound_voice_profiles"
PATCH_BODY = orjson.dumps({"name": "office"})
# Brackets are percent-encoded: wrk's URL parser and every server accept that form.
LIST_QUERY = "page%5Bsize%5D=20"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass(frozen=True)
class Scenario:
    key: str
    label: str
    method: str
    path_template: str
    body: bytes | None = None

    def request(self, profile_id: str, token: str) -> Request:
        headers = {"Authorization": f"Bearer {token}"}
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        return Request(self.method, self.path_template.format(id=profile_id), headers, self.body)


SCENARIOS: dict[str, Scenario] = {
    scenario.key: scenario
    for scenario in (
        Scenario("patch", "PATCH one", "PATCH", COLLECTION + "/{id}", PATCH_BODY),
        Scenario("get", "GET one", "GET", COLLECTION + "/{id}"),
        Scenario("list", "GET list (20)", "GET", COLLECTION + "?" + LIST_QUERY),
    )
}
SCENARIO_KEYS: tuple[str, ...] = tuple(SCENARIOS)


def lua_string(text: str | bytes) -> str:
    """A Lua string literal; anything outside printable ASCII becomes a (decimal) escape."""
    raw = text.encode() if isinstance(text, str) else text
    out = []
    for byte in raw:
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    return '"' + "".join(out) + '"'


def lua_script(request: Request) -> str:
    """wrk builds the request once from these globals, so the script costs nothing per request."""
    lines = [f"wrk.method = {lua_string(request.method)}"]
    if request.body is not None:
        lines.append(f"wrk.body = {lua_string(request.body)}")
    for name, value in request.headers.items():
        lines.append(f"wrk.headers[{lua_string(name)}] = {lua_string(value)}")
    return "\n".join(lines) + "\n"
