"""PostgreSQL backends terminated again and again, under creates, PATCHes, call authorizations and
ends sent to two servers on one database: no answer hides the truth. Every write answered 2xx is
there, every write answered 503 is not, and each profile's active calls are exactly the calls
allowed and not ended."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.databases import SKIPPED_REASON, postgres_admin_url
from tests.e2e.load import async_client
from tests.e2e.servers import PROFILES, OvpServer, launch

pytestmark = pytest.mark.e2e

CALLS = "/ovp/call_authorizations"
TOKEN = "in-doubt"
WRITERS = 12
LOAD_S = 8.0
KILL_EVERY_S = (0.05, 0.25)
DECK = "prefix,rate\n1,0.01\n"
CALL_PROFILES = 3
NOT_APPLIED = 503


@dataclass
class Ledger:
    """What the servers answered, by kind of write."""

    creates: dict[str, int] = field(default_factory=dict)  # name -> status
    patches: dict[str, list[tuple[str, int]]] = field(default_factory=dict)  # profile -> [(name, status)]
    allowed: dict[str, str] = field(default_factory=dict)  # call id -> profile id
    ended: dict[str, int] = field(default_factory=dict)  # call id -> status of its end
    statuses: list[int] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def answered(self, response: httpx.Response) -> int:
        self.statuses.append(response.status_code)
        if response.status_code == NOT_APPLIED:
            self.details.append(response.json()["errors"][0]["detail"])
        return response.status_code


def _terminator(admin_url: str, database: str, stop: threading.Event) -> int:
    """Terminates ovp's backends on `database` at random moments; answers how many it terminated."""
    rng = random.Random(7)
    terminated = 0
    with psycopg.connect(admin_url, autocommit=True) as admin:
        while not stop.wait(rng.uniform(*KILL_EVERY_S)):
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = 'ovp' AND pid <> pg_backend_pid()", (database,)
            ).fetchall()
            terminated += sum(1 for (done,) in rows if done)
    return terminated


async def _load(servers: list[OvpServer], ledger: Ledger, call_profiles: list[str]) -> None:
    clients = [async_client(server.origin, TOKEN, WRITERS) for server in servers]
    try:
        own_profiles = []
        for n in range(WRITERS):
            created = await clients[0].post(PROFILES, json={"name": f"patched {n} 0"})
            assert created.status_code == 200, created.text
            own_profiles.append(created.json()["data"]["id"])
            ledger.patches[own_profiles[-1]] = [(f"patched {n} 0", 200)]
        end = time.monotonic() + LOAD_S

        async def writer(n: int) -> None:
            sequence, open_call = 0, None
            while time.monotonic() < end:
                sequence += 1
                client = clients[sequence % len(clients)]
                kind = sequence % 4
                if kind == 0:
                    name = f"created {n} {sequence}"
                    ledger.creates[name] = ledger.answered(await client.post(PROFILES, json={"name": name}))
                elif kind == 1:
                    name = f"patched {n} {sequence}"
                    status = ledger.answered(await client.patch(f"{PROFILES}/{own_profiles[n]}", json={"name": name}))
                    ledger.patches[own_profiles[n]].append((name, status))
                elif kind == 2 and open_call is None:
                    profile = call_profiles[sequence % len(call_profiles)]
                    response = await client.post(CALLS, json={"outbound_voice_profile_id": profile,
                                                              "to": "+14155552671", "from": f"+1202555{n:04d}"})
                    if ledger.answered(response) == 200:
                        data = response.json()["data"]
                        assert data["decision"] == "allowed", data
                        ledger.allowed[data["id"]] = profile
                        open_call = data["id"]
                elif kind == 3 and open_call is not None:
                    response = await client.post(f"{CALLS}/{open_call}/actions/end", json={"duration_secs": 30})
                    ledger.ended[open_call] = ledger.answered(response)
                    if response.status_code == 200:
                        open_call = None

        await asyncio.gather(*(writer(n) for n in range(WRITERS)))
    finally:
        for client in clients:
            await client.aclose()


def _all_names(client: httpx.Client) -> set[str]:
    names: set[str] = set()
    page = 1
    while True:
        body = client.get(PROFILES, params={"page[size]": 250, "page[number]": page}).json()
        names |= {profile["name"] for profile in body["data"]}
        if page >= body["meta"]["total_pages"]:
            return names
        page += 1


def test_terminated_backends_never_hide_whether_a_write_happened(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    admin_url = postgres_admin_url()
    if admin_url is None:
        pytest.skip(SKIPPED_REASON)
    url: str = request.getfixturevalue("postgres_url")
    servers = [launch(tmp_path, url, auth="open"), launch(tmp_path, url, auth="open")]
    try:
        with servers[0].http(TOKEN) as client:
            deck = client.put("/ovp/rates", content=DECK, headers={"Content-Type": "text/csv"})
            assert deck.status_code == 200, deck.text
            call_profiles = [
                client.post(PROFILES, json={"name": f"calls {n}", "concurrent_call_limit": 1000}).json()["data"]["id"]
                for n in range(CALL_PROFILES)
            ]
        ledger = Ledger()
        stop = threading.Event()
        terminated: list[int] = []
        database = str(make_url(url).database)
        libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        killer = threading.Thread(target=lambda: terminated.append(_terminator(libpq, database, stop)))
        killer.start()
        try:
            asyncio.run(_load(servers, ledger, call_profiles))
        finally:
            stop.set()
            killer.join(timeout=30)
        _check(servers[1], ledger, call_profiles, terminated[0])
    finally:
        for server in servers:
            server.stop()


def _check(server: OvpServer, ledger: Ledger, call_profiles: list[str], terminated: int) -> None:
    assert terminated > 10, f"only {terminated} backends were terminated"
    assert set(ledger.statuses) <= {200, NOT_APPLIED}, sorted(set(ledger.statuses))
    assert all("may or may not" not in detail for detail in ledger.details), "a commit was left in doubt"
    with server.http(TOKEN) as client:
        names = _all_names(client)
        for name, status in ledger.creates.items():
            assert (name in names) == (status == 200), f"create {name!r} answered {status}"
        for profile_id, patches in ledger.patches.items():
            last_acknowledged = [name for name, status in patches if status == 200][-1]
            assert client.get(f"{PROFILES}/{profile_id}").json()["data"]["name"] == last_acknowledged
        for call_id in ledger.allowed:
            status = client.get(f"{CALLS}/{call_id}").json()["data"]["status"]
            assert status == ("ended" if ledger.ended.get(call_id) == 200 else "ringing"), call_id
        for profile_id in call_profiles:
            usage: dict[str, Any] = client.get(f"/ovp/outbound_voice_profiles/{profile_id}/usage").json()["data"]
            open_calls = [call for call, profile in ledger.allowed.items()
                          if profile == profile_id and ledger.ended.get(call) != 200]
            assert usage["active_calls"] == len(open_calls), profile_id
