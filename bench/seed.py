"""Create the profiles the scenarios read and write, through the public API like any client.

Seeding over HTTP (not straight into the database) keeps the benchmark valid for any
backend --database-url names, and checks that creation works before load is applied.
"""

from __future__ import annotations

import orjson

from bench.client import Client
from bench.scenarios import CALLER, COLLECTION, Request


class SeedError(RuntimeError):
    """The server refused to create a profile, so nothing measured afterwards would mean much."""


def seed(client: Client, token: str, count: int) -> str:
    """Creates `count` profiles for the token's account and returns the first one's id (the target)."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    ids: list[str] = []
    for number in range(count):
        name = "office" if number == 0 else f"bench-{number:03d}"
        response = client.send(Request("POST", COLLECTION, headers, orjson.dumps({"name": name})))
        if not response.ok:
            raise SeedError(f"POST {COLLECTION} answered {response.status}: {response.body[:500]!r}")
        ids.append(str(orjson.loads(response.body)["data"]["id"]))
    return ids[0]


# Every limit set, none reached: each authorization reads every counter. The deck's prefixes
# make the longest-prefix match choose among several.
CALLS_PROFILE = {
    "name": "switch",
    "whitelisted_destinations": ["US", "CA", "GB"],
    "max_destination_rate": 1,
    "concurrent_call_limit": 100_000,
    "daily_spend_limit": "999999999.99",
    "daily_spend_limit_enabled": True,
    "calling_window": {"calls_per_cld": 1_000_000},
    "call_recording": {"call_recording_type": "by_caller_phone_number",
                       "call_recording_caller_phone_numbers": [CALLER]},
}
DECK = "prefix,rate\n1,0.0100\n1415,0.0050\n1415555,0.0040\n44,0.0200\n"


def seed_calls(client: Client, token: str) -> str:
    """Loads a rate deck and creates the profile the call scenario authorizes against; answers its id."""
    auth = {"Authorization": f"Bearer {token}"}
    deck = client.send(Request("PUT", "/ovp/rates", {**auth, "Content-Type": "text/csv"}, DECK.encode()))
    if not deck.ok:
        raise SeedError(f"PUT /ovp/rates answered {deck.status}: {deck.body[:500]!r}")
    created = client.send(Request("POST", COLLECTION, {**auth, "Content-Type": "application/json"},
                                  orjson.dumps(CALLS_PROFILE)))
    if not created.ok:
        raise SeedError(f"POST {COLLECTION} answered {created.status}: {created.body[:500]!r}")
    return str(orjson.loads(created.body)["data"]["id"])
