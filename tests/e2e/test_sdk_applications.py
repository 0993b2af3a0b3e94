"""`client.call_control_applications`, `client.texml_applications` and
`client.connections.retrieve_count` of the official `telnyx` Python SDK, sync and async, against a
real `ovp serve` process; a call authorized through an application."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import telnyx

from tests.e2e.servers import OvpServer

pytestmark = pytest.mark.e2e


def test_call_control_applications_every_operation(client: telnyx.Telnyx, http: httpx.Client) -> None:
    profile = client.outbound_voice_profiles.create(name="for applications").data
    assert profile is not None
    assert profile.id is not None
    created = client.call_control_applications.create(
        application_name="ivr", webhook_event_url="https://example.com/hooks",
        outbound={"outbound_voice_profile_id": profile.id, "channel_limit": 2}).data
    assert created is not None
    assert created.id is not None
    assert (created.record_type, created.first_command_timeout_secs, created.dtmf_type) == (
        "call_control_application", 30, "RFC 2833")
    found = client.call_control_applications.list(filter={"application_name": {"contains": "IVR"},
                                                           "outbound_outbound_voice_profile_id": profile.id})
    assert [each.id for each in found] == [created.id]
    updated = client.call_control_applications.update(created.id, application_name="desk",
                                                      webhook_event_url="https://example.com/new",
                                                      first_command_timeout=True).data
    assert updated is not None
    assert (updated.application_name, updated.first_command_timeout) == ("desk", True)
    fetched = client.call_control_applications.retrieve(created.id).data
    assert fetched is not None
    assert fetched.to_dict(mode="json") == updated.to_dict(mode="json")
    retrieved = client.outbound_voice_profiles.retrieve(profile.id).data
    assert retrieved is not None
    assert retrieved.connections_count == 1
    call = http.post("/ovp/call_authorizations", json={"connection_id": created.id, "to": "+14155552671",
                                                       "from": "+12025550100"})
    assert call.json()["data"]["outbound_voice_profile_id"] == profile.id
    deleted = client.call_control_applications.delete(created.id).data
    assert deleted is not None
    assert deleted.id == created.id
    with pytest.raises(telnyx.NotFoundError):
        client.call_control_applications.retrieve(created.id)
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.call_control_applications.create(application_name="x", webhook_event_url="nowhere")


def test_texml_applications_every_operation_and_the_count(client: telnyx.Telnyx) -> None:
    created = client.texml_applications.create(friendly_name="voice app", voice_url="https://example.com/v.xml",
                                               voice_method="get").data
    assert created is not None
    assert created.id is not None
    assert (created.record_type, created.voice_method, created.status_callback_method) == (
        "texml_application", "get", "post")
    assert [each.id for each in client.texml_applications.list(filter={"friendly_name": "voice"},
                                                               sort="friendly_name")] == [created.id]
    updated = client.texml_applications.update(created.id, friendly_name="renamed",
                                               voice_url="https://example.com/w.xml").data
    assert updated is not None
    assert updated.friendly_name == "renamed"
    fetched = client.texml_applications.retrieve(created.id).data
    assert fetched is not None
    assert fetched.voice_url == "https://example.com/w.xml"
    client.credential_connections.create(connection_name="office", user_name="texmlcount1", password="s3cret-pass")
    count = client.connections.retrieve_count().data
    assert (count.counts.texml_applications, count.counts.credential_connections) == (1, 1)
    assert count.counts.call_control_applications == 0
    assert [each.record_type for each in client.connections.list(sort="connection_name")] == [
        "credential_connection", "texml_application"]
    assert client.texml_applications.delete(created.id).data is not None
    with pytest.raises(telnyx.NotFoundError):
        client.texml_applications.retrieve(created.id)


def test_the_async_client_drives_applications(server: OvpServer, account: str) -> None:
    async def run() -> tuple[list[str | None], int]:
        async with server.async_client(account) as sdk:
            ivr = (await sdk.call_control_applications.create(application_name="async ivr",
                                                              webhook_event_url="https://example.com/a")).data
            voice = (await sdk.texml_applications.create(friendly_name="async app",
                                                         voice_url="https://example.com/a.xml")).data
            assert ivr is not None
            assert ivr.id is not None
            assert voice is not None
            assert voice.id is not None
            renamed = (await sdk.call_control_applications.update(ivr.id, application_name="renamed",
                                                                  webhook_event_url="https://example.com/b")).data
            assert renamed is not None
            assert renamed.application_name == "renamed"
            assert (await sdk.texml_applications.retrieve(voice.id)).data is not None
            listed = [each.id async for each in sdk.call_control_applications.list()]
            listed += [each.id async for each in sdk.texml_applications.list()]
            counted = (await sdk.connections.retrieve_count()).data.counts
            await sdk.call_control_applications.delete(ivr.id)
            await sdk.texml_applications.delete(voice.id)
            return listed, counted.call_control_applications + counted.texml_applications

    listed, counted = asyncio.run(run())
    assert (len(listed), counted) == (2, 2)
