"""Credential connections through the official `telnyx` Python SDK, against a real `ovp serve` process:
attaching a profile, finding the connection by its profile, and the profile's count and delete refusal."""

from __future__ import annotations

import pytest
import telnyx

from tests.e2e.test_sdk import first_error, is_numeric_id

pytestmark = pytest.mark.e2e


def test_a_connection_holds_its_profile_until_it_is_gone(client: telnyx.Telnyx) -> None:
    profile = client.outbound_voice_profiles.create(name="office").data
    assert profile is not None
    assert profile.id is not None

    created = client.credential_connections.create(
        connection_name="Front desk", user_name="frontdesk1", password="my123secure456password789",
        outbound={"outbound_voice_profile_id": profile.id, "channel_limit": 4},
    ).data
    assert created is not None
    assert created.id is not None
    assert is_numeric_id(created.id)
    assert created.record_type == "credential_connection"
    assert created.password == "my123secure456password789"
    assert created.outbound is not None
    assert created.outbound.outbound_voice_profile_id == profile.id
    assert created.outbound.channel_limit == 4
    assert created.outbound.localization == "US"
    assert created.inbound is not None
    assert created.inbound.timeout_2xx_secs == 90

    client.credential_connections.create(connection_name="Unattached", user_name="spare1", password="s3cret-pass")
    found = client.credential_connections.list(filter={"outbound_voice_profile_id": profile.id})
    assert [connection.id for connection in found] == [created.id]
    by_name = client.credential_connections.list(filter={"connection_name": {"contains": "front"}}, sort="created_at")
    assert [connection.id for connection in by_name] == [created.id]
    assert by_name.meta is not None
    assert (by_name.meta.page_number, by_name.meta.total_pages) == (1, 1)

    retrieved = client.outbound_voice_profiles.retrieve(profile.id).data
    assert retrieved is not None
    assert retrieved.connections_count == 1
    listed = {each.id: each.connections_count for each in client.outbound_voice_profiles.list()}
    assert listed == {profile.id: 1}

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.outbound_voice_profiles.delete(profile.id)
    error = first_error(caught.value)
    assert error["code"] == "10021"
    assert "1 connection" in error["detail"]

    deleted = client.credential_connections.delete(created.id).data
    assert deleted is not None
    assert deleted.id == created.id
    gone = client.outbound_voice_profiles.delete(profile.id).data
    assert gone is not None
    assert gone.connections_count == 0
    with pytest.raises(telnyx.NotFoundError):
        client.outbound_voice_profiles.retrieve(profile.id)


def test_update_retrieve_and_errors(client: telnyx.Telnyx) -> None:
    connections = client.credential_connections
    created = connections.create(connection_name="Branch", user_name="branch01", password="s3cret-pass").data
    assert created is not None
    assert created.id is not None

    updated = connections.update(created.id, active=False, tags=["emea"], rtcp_settings={"port": "rtcp-mux"}).data
    assert updated is not None
    assert (updated.active, updated.tags, updated.connection_name) == (False, ["emea"], "Branch")
    assert updated.rtcp_settings is not None
    assert (updated.rtcp_settings.port, updated.rtcp_settings.report_frequency_secs) == ("rtcp-mux", 5)
    assert updated.password == "********"
    retrieved = connections.retrieve(created.id).data
    assert retrieved is not None
    assert retrieved.to_dict(mode="json") == updated.to_dict(mode="json")

    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        connections.update(created.id, outbound={"outbound_voice_profile_id": "1293384261075731499"})
    assert first_error(caught.value)["source"] == {"pointer": "/outbound/outbound_voice_profile_id"}
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        connections.create(connection_name="x", user_name="ab", password="short")
    assert [error["source"]["pointer"] for error in caught.value.response.json()["errors"]] == [
        "/user_name", "/password"
    ]
    with pytest.raises(telnyx.NotFoundError):
        connections.retrieve("1293384261075731499")
