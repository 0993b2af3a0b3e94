"""`client.connections` of the official `telnyx` Python SDK, sync and async, against a real
`ovp serve` process: the list across kinds filtered by profile, retrieve, and a connection's active
calls appearing with ovp's authorizations and gone when they end."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import telnyx

from tests.e2e.servers import OvpServer

pytestmark = pytest.mark.e2e

US = "+14155552671"


def _authorize(http: httpx.Client, connection_id: str) -> str:
    answer = http.post("/ovp/call_authorizations", json={"connection_id": connection_id, "to": US,
                                                         "from": "+12025550100"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["decision"] == "allowed", answer.text
    call_id: str = answer.json()["data"]["id"]
    return f"v3:{call_id}"  # the call_control_id, by which ovp's paths name the call too


def _end(http: httpx.Client, call_id: str) -> None:
    answer = http.post(f"/ovp/call_authorizations/{call_id}/actions/end", json={"duration_secs": 12})
    assert answer.status_code == 200, answer.text


def test_connections_lists_retrieves_and_shows_active_calls(client: telnyx.Telnyx, http: httpx.Client) -> None:
    http.put("/ovp/rates", content="prefix,rate\n1,0.0100\n", headers={"Content-Type": "text/csv"}).raise_for_status()
    profile = client.outbound_voice_profiles.create(name="office").data
    assert profile is not None
    assert profile.id is not None
    used = client.credential_connections.create(connection_name="Front desk", user_name="frontdesk1",
                                                password="s3cret-pass",
                                                outbound={"outbound_voice_profile_id": profile.id}).data
    client.credential_connections.create(connection_name="Spare", user_name="spare1", password="s3cret-pass")
    assert used is not None
    assert used.id is not None

    everything = client.connections.list()
    assert len(everything.data) == 2
    found = client.connections.list(filter={"outbound_voice_profile_id": profile.id})
    assert [each.id for each in found] == [used.id]
    assert found.data[0].record_type == "credential_connection"
    assert found.data[0].outbound_voice_profile_id == profile.id
    assert [each.id for each in client.connections.list(filter={"connection_name": {"contains": "front"}})] == [used.id]
    assert list(client.connections.list(filter={"fqdn": "pbx.example.com"})) == []
    shown = client.connections.retrieve(used.id).data
    assert shown is not None
    assert (shown.id, shown.connection_name, shown.active) == (used.id, "Front desk", True)
    with pytest.raises(telnyx.NotFoundError):
        client.connections.retrieve("1293384261075731499")

    assert list(client.connections.list_active_calls(used.id)) == []
    calls = [_authorize(http, used.id) for _ in range(3)]
    active = client.connections.list_active_calls(used.id, page_size=2)
    assert [call.call_control_id for call in active] == calls  # every page, through the SDK's paging
    first = active.data[0]
    assert first.record_type == "call"
    assert first.call_duration >= 0
    _end(http, calls[0])
    assert [call.call_control_id for call in client.connections.list_active_calls(used.id)] == calls[1:]


def test_the_async_client_reads_connections_and_their_active_calls(server: OvpServer, account: str,
                                                                     http: httpx.Client) -> None:
    http.put("/ovp/rates", content="prefix,rate\n1,0.0100\n", headers={"Content-Type": "text/csv"}).raise_for_status()
    created = http.post("/v2/credential_connections", json={"connection_name": "Async desk", "user_name": "async1",
                                                            "password": "s3cret-pass"})
    assert created.status_code == 201, created.text
    connection_id = created.json()["data"]["id"]
    profile = http.post("/v2/outbound_voice_profiles", json={"name": "async"}).json()["data"]
    http.patch(f"/v2/credential_connections/{connection_id}",
               json={"outbound": {"outbound_voice_profile_id": profile["id"]}}).raise_for_status()
    call_id = _authorize(http, connection_id)

    async def read() -> tuple[list[str | None], str | None, list[str]]:
        async with server.async_client(account) as sdk:
            listed = [each.id async for each in sdk.connections.list(filter={"outbound_voice_profile_id":
                                                                                 profile["id"]})]
            retrieved = (await sdk.connections.retrieve(connection_id)).data
            active = [call.call_control_id async for call in sdk.connections.list_active_calls(connection_id)]
            return listed, None if retrieved is None else retrieved.id, active

    assert asyncio.run(read()) == ([connection_id], connection_id, [call_id])
    _end(http, call_id)

    async def active_after_the_end() -> list[str]:
        async with server.async_client(account) as sdk:
            return [call.call_control_id async for call in sdk.connections.list_active_calls(connection_id)]

    assert asyncio.run(active_after_the_end()) == []
