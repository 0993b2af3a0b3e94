"""The three measured requests, and the wrk Lua script that makes wrk send each one.

One definition serves both the wrk script and the single checked request sent before the
load, so the two can never drift: a scenario that answers anything but 2xx is caught
once, with its body shown, instead of as thousands of anonymous non-2xx responses.
"""

from __future__ import annotations

import re
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
    # Call pairs: each authorization is followed by the end of an authorized call, so the wrk
    # script is stateful (see call_pairs_lua) and the scenario targets the calls profile.
    call_pairs: bool = False
    # A new connection for every request, as clients that keep none (Kamailio's http_client by
    # default) send them: wrk reconnects after each answer to "Connection: close".
    new_connections: bool = False

    def request(self, profile_id: str, token: str) -> Request:
        headers = {"Authorization": f"Bearer {token}"}
        if self.new_connections:
            headers["Connection"] = "close"
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        body = self.body.replace(b"{id}", profile_id.encode()) if self.body is not None else None
        return Request(self.method, self.path_template.format(id=profile_id), headers, body)


CALLS = "/ovp/call_authorizations"
CALLER = "+12025550100"
AUTHORIZE_BODY = b'{"outbound_voice_profile_id":"{id}","to":"+14155552671","from":"' + CALLER.encode() + b'"}'

SCENARIOS: dict[str, Scenario] = {
    scenario.key: scenario
    for scenario in (
        # The list before any PATCH, to compare with the same list right after the PATCHes.
        Scenario("list_alone", "GET list (20), alone", "GET", COLLECTION + "?" + LIST_QUERY),
        Scenario("patch", "PATCH one", "PATCH", COLLECTION + "/{id}", PATCH_BODY),
        Scenario("get", "GET one", "GET", COLLECTION + "/{id}"),
        Scenario("get_new", "GET one, a new connection each", "GET", COLLECTION + "/{id}", new_connections=True),
        Scenario("list", "GET list (20)", "GET", COLLECTION + "?" + LIST_QUERY),
        Scenario("calls", "authorize + answer + end", "POST", CALLS, AUTHORIZE_BODY, call_pairs=True),
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


AUTHORIZED_LINE = "ovp-authorized"
REJECTED_LINE = "ovp-rejected"


def call_counts(output: str) -> tuple[int, int]:
    """The authorized and rejected calls that call_pairs_lua's done() printed."""
    counts = dict(re.findall(rf"^({AUTHORIZED_LINE}|{REJECTED_LINE}): (\d+)$", output, re.MULTILINE))
    if len(counts) != 2:
        raise ValueError(f"wrk did not print the call counts:\n{output}")
    return int(counts[AUTHORIZED_LINE]), int(counts[REJECTED_LINE])


def summed_counts_lua(counted: dict[str, str]) -> str:
    """wrk's setup() and done() for a script whose threads count in globals: done() prints each
    global's sum over the threads, one "label: count" line each (`counted`: global -> label)."""
    sums = "\n".join(f'  io.write("{label}: " .. sum("{name}") .. "\\n")' for name, label in counted.items())
    return f"""
local threads = {{}}
function setup(thread)
  table.insert(threads, thread)
end

local function sum(name)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get(name)
  end
  return total
end

function done(summary, latency, requests)
{sums}
end
"""


def call_pairs_lua(request: Request, profile_id: str, *, by: str = "outbound_voice_profile_id") -> str:
    """A stateful wrk script: each wrk thread authorizes calls to numbers that vary (+1 415 555
    0000 to 9999) and, whenever one of its authorizations has answered, confirms that call's answer
    next, then ends it with a duration of up to five minutes, as a switch does. So about a third of
    the requests authorize, a third answer and a third end, and at most one call per connection is
    left in progress. done() prints how many calls were authorized and rejected, summed over the
    threads. `by`: connection_id asks through a connection (`profile_id` is then the connection's)."""
    base = lua_script(Request("POST", request.path, request.headers))
    return base + f"""
local profile = {lua_string(profile_id)}
local subject = {lua_string(by)}
local calls = {lua_string(CALLS)}
local ringing = {{}}
local answered = {{}}
local sequence = 0
authorized = 0
rejected = 0

function request()
  local id = table.remove(answered)
  if id then
    return wrk.format(nil, calls .. "/" .. id .. "/actions/end", nil,
                      '{{"duration_secs":' .. (sequence % 300) .. '}}')
  end
  id = table.remove(ringing)
  if id then
    return wrk.format(nil, calls .. "/" .. id .. "/actions/answer", nil, "{{}}")
  end
  sequence = sequence + 1
  local number = string.format("+1415555%04d", sequence % 10000)
  return wrk.format(nil, calls, nil,
                    '{{"' .. subject .. '":"' .. profile .. '","to":"' .. number .. '","from":"{CALLER}"}}')
end

function response(status, headers, body)
  if body:find('"status":"ringing"', 1, true) then
    authorized = authorized + 1
    table.insert(ringing, body:match('"id":"(%d+)"'))
  elseif body:find('"status":"active"', 1, true) then
    table.insert(answered, body:match('"id":"(%d+)"'))
  elseif body:find('"decision":"rejected"', 1, true) then
    rejected = rejected + 1
  end
end

""" + summed_counts_lua({"authorized": AUTHORIZED_LINE, "rejected": REJECTED_LINE})
