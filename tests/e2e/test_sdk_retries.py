"""Fault injection meets the official SDK's retry logic, through ovp's own pytest plugin."""

from __future__ import annotations

import httpx
import pytest
import telnyx

from ovp.testing import OvpServer

pytestmark = pytest.mark.e2e

PROFILES = "/v2/outbound_voice_profiles"


def admin(server: OvpServer, token: str) -> httpx.Client:
    return httpx.Client(base_url=server.origin, headers={"Authorization": f"Bearer {token}"}, timeout=10.0)


@pytest.mark.parametrize("status", [429, 503])
def test_the_sdk_retries_an_injected_failure_and_succeeds(
    ovp_client: telnyx.Telnyx, ovp_server: OvpServer, ovp_token: str, status: int
) -> None:
    with admin(ovp_server, ovp_token) as http:
        http.post("/_ovp/admin/faults", json={"method": "POST", "path": PROFILES, "status": status, "times": 1})
        created = ovp_client.outbound_voice_profiles.create(name="after one retry")
        assert created.data is not None
        journal = http.get("/_ovp/admin/journal").json()["data"]
    assert [(entry["method"], entry["status"]) for entry in journal] == [("POST", status), ("POST", 200)]
    assert journal[1]["body"] == {"name": "after one retry"}


def test_the_sdk_gives_up_when_the_failure_outlasts_its_retries(
    ovp_client: telnyx.Telnyx, ovp_server: OvpServer, ovp_token: str
) -> None:
    with admin(ovp_server, ovp_token) as http:
        http.post("/_ovp/admin/faults", json={"status": 500, "times": 10})
        with pytest.raises(telnyx.InternalServerError):
            ovp_client.with_options(max_retries=1).outbound_voice_profiles.list()
        assert len(http.get("/_ovp/admin/journal").json()["data"]) == 2
