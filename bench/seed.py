"""Create the profiles the scenarios read and write, through the public API like any client.

Seeding over HTTP (not straight into the database) keeps the benchmark valid for any
backend --database-url names, and checks that creation works before load is applied.
"""

from __future__ import annotations

import orjson

from bench.client import Client
from bench.scenarios import COLLECTION, Request


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
