"""Counters under concurrency: two `ovp serve` processes on one database (an SQLite file, and
PostgreSQL) take a flood of simultaneous authorizations for one profile, and never hand out more
slots, calls to a number or budget than the profile allows; a call ended many times at once books
its cost once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from tests.e2e.load import DEADLINE_S, async_client
from tests.e2e.servers import PROFILES, OvpServer, StartServer

pytestmark = pytest.mark.e2e

CALLS = "/ovp/call_authorizations"
UK = "+442071838750"
REQUESTS = 60
CONNECTIONS = 16


def prepare(server: OvpServer, token: str, **limits: Any) -> str:
    with server.http(token) as client:
        deck = client.put("/ovp/rates", content="44,0.06\n", headers={"Content-Type": "text/csv"})
        assert deck.status_code == 200, deck.text
        created = client.post(PROFILES, json={"name": "contested", "whitelisted_destinations": ["GB"], **limits})
        assert created.status_code == 200, created.text
        profile_id: str = created.json()["data"]["id"]
        return profile_id


def on_both(servers: tuple[OvpServer, OvpServer], token: str, path: str, body: Callable[[int], dict[str, Any]]
            ) -> list[dict[str, Any]]:
    """REQUESTS POSTs at once, alternately through each server; each answers 200."""

    async def main() -> list[dict[str, Any]]:
        async with (async_client(servers[0].origin, token, CONNECTIONS) as one,
                    async_client(servers[1].origin, token, CONNECTIONS) as two):

            async def post(n: int) -> dict[str, Any]:
                response = await (one, two)[n % 2].post(path, json=body(n))
                assert response.status_code == 200, response.text
                data: dict[str, Any] = response.json()["data"]
                return data

            gate = asyncio.Semaphore(2 * CONNECTIONS)

            async def guarded(n: int) -> dict[str, Any]:
                async with gate:
                    return await post(n)

            return await asyncio.wait_for(asyncio.gather(*(guarded(n) for n in range(REQUESTS))), DEADLINE_S)

    return asyncio.run(main())


def flood(servers: tuple[OvpServer, OvpServer], token: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    return on_both(servers, token, CALLS, lambda _n: body)


def end_all(server: OvpServer, token: str, decisions: list[dict[str, Any]], duration: int = 0) -> None:
    with server.http(token) as client:
        for decision in decisions:
            if decision["decision"] == "allowed":
                assert client.post(f"{CALLS}/{decision['id']}/actions/end",
                                   json={"duration_secs": duration}).status_code == 200


def codes(decisions: list[dict[str, Any]]) -> dict[str, int]:
    counted: dict[str, int] = {}
    for decision in decisions:
        key = decision["code"] if decision["decision"] == "rejected" else "allowed"
        counted[key] = counted.get(key, 0) + 1
    return counted


def test_two_servers_never_let_an_account_pass_its_channel_limit(start_server: StartServer, account: str) -> None:
    """D1: the calls are spread over three profiles and two servers; the account's limit holds."""
    servers = (start_server(), start_server())
    profiles = [prepare(servers[0], account) for _ in range(3)]
    with servers[0].http(account) as client:
        assert client.patch("/ovp/account", json={"channel_limit": 7}).status_code == 200
    decisions = on_both(servers, account, CALLS, lambda n: {
        "outbound_voice_profile_id": profiles[n % 3], "to": UK, "from": "+12025550100"})
    assert codes(decisions) == {"allowed": 7, "D1": REQUESTS - 7}


def test_two_servers_never_let_a_connection_pass_its_channel_limit(start_server: StartServer, account: str) -> None:
    """D3: two connections share one profile; the limited one holds its limit, the other is not held."""
    servers = (start_server(), start_server())
    profile_id = prepare(servers[0], account)
    with servers[0].http(account) as client:
        made = [client.post("/v2/credential_connections", json={
            "connection_name": f"trunk {n}", "user_name": f"trunk{n}", "password": "secret-pass-1",
            "outbound": {"outbound_voice_profile_id": profile_id, **limit}}) for n, limit in enumerate(
                ({"channel_limit": 4}, {}))]
    limited, free = (response.json()["data"]["id"] for response in made)
    decisions = on_both(servers, account, CALLS, lambda n: {
        "connection_id": (limited, free)[n % 4 == 3], "to": UK, "from": "+12025550100"})
    through_limited = [decision for decision in decisions if decision["connection_id"] == limited]
    assert codes(through_limited) == {"allowed": 4, "D3": len(through_limited) - 4}
    assert codes([decision for decision in decisions if decision["connection_id"] == free]) == {
        "allowed": REQUESTS // 4}


@pytest.mark.parametrize(
    ("limits", "allowed", "refusal"),
    [
        ({"concurrent_call_limit": 5}, 5, "D2"),
        # 0.06 a minute: each allowed call reserves its first minute of the 0.30 budget.
        ({"daily_spend_limit": "0.30", "daily_spend_limit_enabled": True}, 5, "OVP5"),
        ({"calling_window": {"calls_per_cld": 3}}, 3, "OVP4"),
    ],
)
def test_two_servers_never_hand_out_more_than_the_limit(
    start_server: StartServer, account: str, limits: dict[str, Any], allowed: int, refusal: str
) -> None:
    servers = (start_server(), start_server())
    profile_id = prepare(servers[0], account, **limits)
    body = {"outbound_voice_profile_id": profile_id, "to": UK, "from": "+12025550100"}
    first = flood(servers, account, body)
    assert codes(first) == {"allowed": allowed, refusal: REQUESTS - allowed}
    with servers[1].http(account) as client:
        usage = client.get(f"/ovp/outbound_voice_profiles/{profile_id}/usage").json()["data"]
    assert usage["active_calls"] == allowed
    end_all(servers[1], account, first)
    if refusal != "OVP4":  # ended calls free their slots and (having cost nothing) their budget
        assert codes(flood(servers, account, body)) == {"allowed": allowed, refusal: REQUESTS - allowed}


def test_a_call_ended_many_times_at_once_books_once(start_server: StartServer, account: str) -> None:
    servers = (start_server(), start_server())
    profile_id = prepare(servers[0], account)
    with servers[0].http(account) as client:
        asked = {"outbound_voice_profile_id": profile_id, "to": UK, "from": "+12025550100"}
        call = client.post(CALLS, json=asked).json()["data"]
        assert client.post(f"{CALLS}/{call['id']}/actions/answer").status_code == 200

    answers = on_both(servers, account, f"{CALLS}/{call['id']}/actions/end", lambda n: {"duration_secs": 61 + n})
    assert len({answer["duration_secs"] for answer in answers}) == 1  # one end won; the others saw it
    cost = answers[0]["cost"]
    with servers[1].http(account) as client:
        usage = client.get(f"/ovp/outbound_voice_profiles/{profile_id}/usage").json()["data"]
    assert usage["spent"] == cost == "0.120000"


def test_crossing_calls_of_several_profiles_through_two_servers_all_succeed_and_add_up(
    start_server: StartServer, account: str
) -> None:
    """Each call is authorized through one server and ended through the other, over four profiles
    at once: groups of writes on the two servers take profiles' rows in every order. None may fail
    or stall, and each profile's spend must be exactly the sum of its calls' costs."""
    servers = (start_server(), start_server())
    profiles = [prepare(servers[0], account, concurrent_call_limit=1000, daily_spend_limit="100000.00",
                        daily_spend_limit_enabled=True) for _ in range(4)]
    costs: dict[str, list[str]] = {profile: [] for profile in profiles}

    async def main() -> None:
        async with (async_client(servers[0].origin, account, CONNECTIONS) as one,
                    async_client(servers[1].origin, account, CONNECTIONS) as two):

            async def caller(n: int) -> None:
                for round_number in range(8):
                    profile = profiles[(n + round_number) % len(profiles)]
                    first, second = (one, two) if (n + round_number) % 2 else (two, one)
                    asked = await first.post(CALLS, json={"outbound_voice_profile_id": profile, "to": UK,
                                                          "from": "+12025550100"})
                    assert asked.status_code == 200, asked.text
                    call = asked.json()["data"]
                    assert call["decision"] == "allowed", call
                    answered = await first.post(f"{CALLS}/{call['id']}/actions/answer")
                    assert answered.status_code == 200, answered.text
                    ended = await second.post(f"{CALLS}/{call['id']}/actions/end",
                                              json={"duration_secs": 1 + (n * 7 + round_number) % 200})
                    assert ended.status_code == 200, ended.text
                    costs[profile].append(ended.json()["data"]["cost"])

            await asyncio.wait_for(asyncio.gather(*(caller(n) for n in range(2 * CONNECTIONS))), DEADLINE_S)

    asyncio.run(main())
    with servers[0].http(account) as client:
        for profile in profiles:
            usage = client.get(f"/ovp/outbound_voice_profiles/{profile}/usage").json()["data"]
            assert usage["active_calls"] == 0
            assert Decimal(usage["spent"]) == sum(Decimal(cost) for cost in costs[profile])
