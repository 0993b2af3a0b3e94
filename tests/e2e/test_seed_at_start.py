"""`ovp serve --auth open --seed FILE` starts with the seed's profiles in the seed token's account."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import PROFILES, OvpServer, launch, launch_in

pytestmark = pytest.mark.e2e

SEED = Path(__file__).parents[2] / "examples" / "seed.json"


def test_the_example_seed_is_served_from_the_start(tmp_path: Path) -> None:
    server = launch(tmp_path, f"sqlite:///{tmp_path / 'ovp.db'}", auth="open", extra=["--seed", str(SEED)])
    try:
        with server.client("test") as client:
            profile = client.outbound_voice_profiles.retrieve("1293384261075731499").data
            assert profile is not None
            assert profile.name == json.loads(SEED.read_text())["data"][0]["name"]
            assert profile.tags == ["office-profile"]
        with server.client("someone else") as stranger:
            assert stranger.outbound_voice_profiles.list().data == []
    finally:
        server.stop()


def test_the_same_seed_loads_into_eight_accounts_at_once_and_each_keeps_its_own(server: OvpServer) -> None:
    """Parallel test workers, each with a token of its own, all load the documented profile."""
    seed = json.loads(SEED.read_text())
    tokens = [f"seeded-{n}-{time.monotonic_ns()}" for n in range(8)]

    async def seed_all() -> list[int]:
        async with httpx.AsyncClient(base_url=server.origin, timeout=30.0) as client:
            answers = await asyncio.gather(*(client.post("/_ovp/admin/seed", json=seed,
                                                         headers={"Authorization": f"Bearer {token}"})
                                             for token in tokens))
        return [answer.status_code for answer in answers]

    assert asyncio.run(seed_all()) == [200] * 8
    profile_id = seed["data"][0]["id"]
    with server.client(tokens[0]) as first:
        first.outbound_voice_profiles.update(profile_id, name="only the first account's")
    for token in tokens[1:]:
        with server.client(token) as other:
            profile = other.outbound_voice_profiles.retrieve(profile_id).data
            assert profile is not None
            assert profile.name == seed["data"][0]["name"]


def test_open_mode_without_a_database_serves_one_of_its_own_and_leaves_ovp_db_alone(tmp_path: Path) -> None:
    """`ovp serve --auth open`, as the README suggests for trying things out, never touches the keys-mode
    database the same directory holds (ovp.db), and says where its own is."""
    keys_database = tmp_path / "ovp.db"
    server = launch_in(tmp_path, "--auth", "open")
    try:
        with server.http("tryout") as client:
            assert client.post(PROFILES, json={"name": "trying"}).status_code == 200
            assert client.post("/_ovp/admin/reset", params={"scope": "all"}).status_code == 200
        log = server.log()
    finally:
        server.stop()
    assert not keys_database.exists()
    own = re.search(r"with sqlite:///(\S+) in open mode", log)
    assert own is not None
    assert "ovp-open-" in own[1]
    assert not Path(own[1]).exists()  # gone with the server
