"""Several servers on one database, under concurrent load: no id collides, no update is lost,
totals stay exact, and what one server writes or revokes, the other knows at once."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.databases import SKIPPED_REASON, empty_postgres_database, postgres_admin_url
from tests.e2e.load import async_client, run_concurrently
from tests.e2e.servers import PROFILES, OvpServer, launch, run_ovp

CONNECTIONS = "/v2/credential_connections"

pytestmark = pytest.mark.e2e

Launcher = Callable[..., OvpServer]
needs_postgres = pytest.mark.skipif(postgres_admin_url() is None, reason=SKIPPED_REASON)


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[Launcher]:
    """Starts servers on a database URL the test chooses; stops each by its PID at the end."""
    started: list[OvpServer] = []

    def start(url: str, auth: str = "open") -> OvpServer:
        started.append(launch(tmp_path, url, auth=auth))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def postgres(postgres_url: str) -> Iterator[str]:
    yield postgres_url
    empty_postgres_database(postgres_url)


def pair(start: Launcher, url: str, auth: str = "open") -> tuple[OvpServer, OvpServer]:
    return start(url, auth), start(url, auth)


def total(server: OvpServer, token: str) -> int:
    with server.http(token) as client:
        meta: dict[str, int] = client.get(PROFILES, params={"page[size]": "1"}).json()["meta"]
    return meta["total_results"]


def all_ids(server: OvpServer, token: str) -> list[str]:
    ids: list[str] = []
    with server.http(token) as client:
        number = 1
        while True:
            page = client.get(PROFILES, params={"page[size]": "250", "page[number]": str(number)}).json()
            ids += [profile["id"] for profile in page["data"]]
            if number >= page["meta"]["total_pages"]:
                return ids
            number += 1


# Each writer owns one field (or one key of a nested object) and writes it again and again;
# every PATCH also carries the required name, the same for all.
FIELD_WRITERS: dict[str, Callable[[int], dict[str, Any]]] = {
    "concurrent_call_limit": lambda n: {"concurrent_call_limit": n + 1},
    "max_destination_rate": lambda n: {"max_destination_rate": n / 100},
    "daily_spend_limit": lambda n: {"daily_spend_limit": f"{n}.50"},
    "billing_group_id": lambda n: {"billing_group_id": f"00000000-0000-0000-0000-{n:012d}"},
    "tags": lambda n: {"tags": [f"round-{n}"]},
    "whitelisted_destinations": lambda n: {"whitelisted_destinations": ["US", "BR"] if n % 2 else ["CA", "AU"]},
    "calling_window.start_time": lambda n: {"calling_window": {"start_time": f"{n % 24:02d}:00"}},
    "calling_window.calls_per_cld": lambda n: {"calling_window": {"calls_per_cld": n}},
    "call_recording.call_recording_format": lambda n: {
        "call_recording": {"call_recording_format": "mp3" if n % 2 else "wav"}},
    "call_recording.call_recording_channels": lambda n: {
        "call_recording": {"call_recording_channels": "dual" if n % 2 else "single"}},
}
ROUNDS = 15


def read_field(profile: dict[str, Any], field: str) -> Any:
    head, _, tail = field.partition(".")
    return profile[head][tail] if tail else profile.get(head)


def expected_after(field: str, last_round: int) -> Any:
    change = FIELD_WRITERS[field](last_round)
    head, _, tail = field.partition(".")
    value = change[head]
    if head == "calling_window" and tail == "start_time":
        return f"{value['start_time']}:00"
    return value[tail] if tail else value


def test_concurrent_patches_of_different_fields_all_survive(file_database_url: str, servers: Launcher) -> None:
    first, second = pair(servers, file_database_url)
    token = "no-lost-updates"
    with first.http(token) as client:
        profile_id = client.post(PROFILES, json={"name": "contested"}).json()["data"]["id"]

    async def writer(field: str, server: OvpServer) -> list[int]:
        statuses = []
        async with async_client(server.origin, token, 2) as client:
            for n in range(ROUNDS):
                body = {"name": "contested", **FIELD_WRITERS[field](n)}
                statuses.append((await client.patch(f"{PROFILES}/{profile_id}", json=body)).status_code)
        return statuses

    jobs = [
        (lambda field=field, index=index: writer(field, first if index % 2 else second))
        for index, field in enumerate(FIELD_WRITERS)
    ]
    results = run_concurrently(jobs, concurrency=len(jobs))
    assert all(status == 200 for statuses in results for status in statuses)

    with second.http(token) as client:
        final = client.get(f"{PROFILES}/{profile_id}").json()["data"]
    for field in FIELD_WRITERS:
        assert read_field(final, field) == expected_after(field, ROUNDS - 1), field


@needs_postgres
def test_ids_never_collide_across_two_servers(servers: Launcher, postgres: str) -> None:
    first, second = pair(servers, postgres)
    token = "many-creates"
    per_server = 5000

    async def create(client: httpx.AsyncClient, n: int) -> str:
        response = await client.post(PROFILES, json={"name": f"profile {n:05d}"})
        assert response.status_code == 200, response.text
        profile_id: str = response.json()["data"]["id"]
        return profile_id

    async def flood() -> list[str]:
        async with async_client(first.origin, token, 16) as one, async_client(second.origin, token, 16) as two:
            jobs: list[Awaitable[str]] = [create(one if n % 2 else two, n) for n in range(2 * per_server)]
            gate = asyncio.Semaphore(32)

            async def guarded(job: Awaitable[str]) -> str:
                async with gate:
                    return await job

            return await asyncio.wait_for(asyncio.gather(*(guarded(job) for job in jobs)), 300)

    ids = asyncio.run(flood())
    assert len(ids) == 2 * per_server
    assert len(set(ids)) == len(ids)
    assert total(first, token) == total(second, token) == 2 * per_server
    assert sorted(all_ids(second, token)) == sorted(ids)


@needs_postgres
def test_a_write_through_one_server_is_read_at_once_through_the_other(servers: Launcher, postgres: str) -> None:
    first, second = pair(servers, postgres)
    with first.http("shared") as one, second.http("shared") as two:
        created = one.post(PROFILES, json={"name": "written on one"}).json()["data"]
        assert two.get(f"{PROFILES}/{created['id']}").json()["data"] == created
        updated = two.patch(f"{PROFILES}/{created['id']}", json={"name": "renamed on two"}).json()["data"]
        assert one.get(f"{PROFILES}/{created['id']}").json()["data"] == updated
        assert one.delete(f"{PROFILES}/{created['id']}").status_code == 200
        assert two.get(f"{PROFILES}/{created['id']}").status_code == 404


@needs_postgres
def test_a_revoked_key_stops_working_on_both_servers(servers: Launcher, postgres: str) -> None:
    made = run_ovp("keys", "create", "--account", "acme", "--database", postgres)
    assert made.returncode == 0, made.stderr
    secret, key_id = made.stdout.strip(), made.stderr.split()[2]
    first, second = pair(servers, postgres, auth="keys")
    with first.http(secret) as one, second.http(secret) as two:
        assert one.get(PROFILES).status_code == 200
        assert two.get(PROFILES).status_code == 200
        assert run_ovp("keys", "revoke", key_id, "--database", postgres).returncode == 0
        assert one.get(PROFILES).status_code == 401
        assert two.get(PROFILES).status_code == 401


def test_list_totals_stay_exact_under_concurrent_creates_and_deletes(file_database_url: str, servers: Launcher) -> None:
    first, second = pair(servers, file_database_url)
    token = "totals"
    with first.http(token) as client:
        doomed = [client.post(PROFILES, json={"name": f"doomed {n}"}).json()["data"]["id"] for n in range(150)]
    created: list[str] = []
    snapshots: list[dict[str, Any]] = []

    async def create(client: httpx.AsyncClient, n: int) -> None:
        response = await client.post(PROFILES, json={"name": f"new {n}"})
        assert response.status_code == 200
        created.append(response.json()["data"]["id"])

    async def delete(client: httpx.AsyncClient, profile_id: str) -> None:
        assert (await client.delete(f"{PROFILES}/{profile_id}")).status_code == 200

    async def look(client: httpx.AsyncClient) -> None:
        snapshots.append((await client.get(PROFILES, params={"page[size]": "250"})).json())

    async def churn() -> None:
        async with async_client(first.origin, token, 8) as one, async_client(second.origin, token, 8) as two:
            jobs = [create(one if n % 2 else two, n) for n in range(200)]
            jobs += [delete(two if n % 2 else one, profile_id) for n, profile_id in enumerate(doomed)]
            jobs += [look(one if n % 2 else two) for n in range(60)]
            gate = asyncio.Semaphore(16)

            async def guarded(job: Awaitable[None]) -> None:
                async with gate:
                    await job

            random.Random(7).shuffle(jobs)  # creates, deletes and lists, interleaved
            await asyncio.wait_for(asyncio.gather(*(guarded(job) for job in jobs)), 120)

    asyncio.run(churn())
    for snapshot in snapshots:
        # Each answer is one snapshot: its page holds exactly as many rows as its total says.
        assert len(snapshot["data"]) == min(snapshot["meta"]["total_results"], 250)
        assert 0 <= snapshot["meta"]["total_results"] <= 350
    assert total(first, token) == total(second, token) == 200
    assert sorted(all_ids(first, token)) == sorted(created)


def test_a_user_name_raced_for_through_two_servers_goes_to_one_connection(
    file_database_url: str, servers: Launcher
) -> None:
    """Creates and renames race for the same user names: exactly one wins each name, and every
    other request gets the clear 422 (or, on PostgreSQL, the retriable 503 when even its second run
    lost the race), never a 500 nor two connections with one name."""
    first, second = pair(servers, file_database_url)
    token, names, racers = "user-name-race", 12, 6
    with first.http(token) as client:
        spare = [client.post(CONNECTIONS, json={"connection_name": f"spare {n}", "user_name": f"spare{n:03d}",
                                                "password": "s3cret-passw0rd"}).json()["data"]["id"]
                 for n in range(names * racers)]

    async def race(server: OvpServer, name: int, racer: int) -> int:
        async with async_client(server.origin, token, 1) as client:
            if racer % 2:
                response = await client.post(CONNECTIONS, json={"connection_name": f"racer {racer}",
                                                                 "user_name": f"Contested{name}",
                                                                 "password": "s3cret-passw0rd"})
            else:
                response = await client.patch(f"{CONNECTIONS}/{spare[name * racers + racer]}",
                                              json={"user_name": f"CONTESTED{name}"})
        return response.status_code

    jobs = [(lambda name=name, racer=racer: race(first if racer % 2 else second, name, racer))
            for name in range(names) for racer in range(racers)]
    statuses = run_concurrently(jobs, concurrency=len(jobs))
    assert set(statuses) <= {200, 201, 422, 503}, statuses
    won = [status in (200, 201) for status in statuses]
    winners = [sum(won[name * racers:(name + 1) * racers]) for name in range(names)]
    assert winners == [1] * names
    with second.http(token) as client:
        held = [c["user_name"].lower() for page in range(1, 3) for c in client.get(
            CONNECTIONS, params={"page[size]": "250", "page[number]": str(page)}).json()["data"]]
    assert sorted(name for name in held if name.startswith("contested")) == sorted(
        f"contested{name}" for name in range(names))


def test_connections_counts_stay_exact_under_concurrent_creates_moves_and_deletes(
    file_database_url: str, servers: Launcher
) -> None:
    """Connections created, moved the opposite ways between two profiles, and deleted, through two
    servers at once: each profile's connections_count is the number that use it, and every request
    succeeds (two moves the opposite ways never wait for each other)."""
    first, second = pair(servers, file_database_url)
    token = "counts"
    with first.http(token) as client:
        a, b = (client.post(PROFILES, json={"name": f"profile {name}"}).json()["data"]["id"] for name in "ab")
        movers = [client.post(CONNECTIONS, json={
            "connection_name": f"mover {n}", "user_name": f"mover{n:03d}", "password": "s3cret-passw0rd",
            "outbound": {"outbound_voice_profile_id": a if n % 2 else b}}).json()["data"] for n in range(40)]
    failures: list[str] = []

    async def send(client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None = None) -> None:
        response = await client.request(method, path, json=body)
        if response.status_code not in (200, 201):
            failures.append(f"{method} {path}: {response.status_code} {response.text}")

    async def churn() -> None:
        async with async_client(first.origin, token, 8) as one, async_client(second.origin, token, 8) as two:
            jobs = [send(one if n % 2 else two, "POST", CONNECTIONS, {
                "connection_name": f"new {n}", "user_name": f"new{n:03d}", "password": "s3cret-passw0rd",
                "outbound": {"outbound_voice_profile_id": a if n % 3 else b}}) for n in range(30)]
            jobs += [send(two if n % 2 else one, "PATCH", f"{CONNECTIONS}/{mover['id']}", {
                "outbound": {"outbound_voice_profile_id": b if mover["outbound"]["outbound_voice_profile_id"] == a
                             else a}}) for n, mover in enumerate(movers[:30])]
            jobs += [send(one, "DELETE", f"{CONNECTIONS}/{mover['id']}") for mover in movers[30:]]
            random.Random(11).shuffle(jobs)
            await asyncio.wait_for(asyncio.gather(*jobs), 120)

    asyncio.run(churn())
    assert failures == []
    with second.http(token) as client:
        used: dict[str, int] = {a: 0, b: 0}
        for connection in client.get(CONNECTIONS, params={"page[size]": "250"}).json()["data"]:
            used[connection["outbound"]["outbound_voice_profile_id"]] += 1
        counts = {profile: client.get(f"{PROFILES}/{profile}").json()["data"]["connections_count"] for profile in used}
    assert counts == used
    assert sum(counts.values()) == 60
