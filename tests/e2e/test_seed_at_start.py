"""`ovp serve --auth open --seed FILE` starts with the seed's profiles in the seed token's account."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.servers import launch

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
