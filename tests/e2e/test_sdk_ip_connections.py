"""`client.ip_connections` of the official `telnyx` Python SDK, sync and async, against a real
`ovp serve` process: every operation, and a profile used by one connection of each kind, counted,
held against deletion, and let go."""

from __future__ import annotations

import asyncio

import pytest
import telnyx

from tests.e2e.servers import OvpServer
from tests.e2e.test_sdk import first_error

pytestmark = pytest.mark.e2e


def test_a_profile_used_by_one_connection_of_each_kind(client: telnyx.Telnyx) -> None:
    profile = client.outbound_voice_profiles.create(name="trunks").data
    assert profile is not None
    assert profile.id is not None
    credential = client.credential_connections.create(connection_name="desk", user_name="desk0001",
                                                      password="s3cret-pass",
                                                      outbound={"outbound_voice_profile_id": profile.id}).data
    ip = client.ip_connections.create(connection_name="pbx", transport_protocol="TCP",
                                      outbound={"outbound_voice_profile_id": profile.id, "tech_prefix": "1234"}).data
    assert credential is not None
    assert ip is not None
    assert ip.id is not None
    assert (ip.record_type, ip.transport_protocol) == ("ip_connection", "TCP")
    assert ip.outbound is not None
    assert ip.outbound.tech_prefix == "1234"
    fqdn = client.fqdn_connections.create(connection_name="by name",
                                          outbound={"outbound_voice_profile_id": profile.id}).data
    assert fqdn is not None
    assert fqdn.id is not None

    retrieved = client.outbound_voice_profiles.retrieve(profile.id).data
    assert retrieved is not None
    assert retrieved.connections_count == 3
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.outbound_voice_profiles.delete(profile.id)
    assert first_error(caught.value)["code"] == "10021"
    assert {(each.id, each.record_type) for each in client.connections.list(filter={"outbound_voice_profile_id":
                                                                                    profile.id})} == {
        (credential.id, "credential_connection"), (ip.id, "ip_connection"), (fqdn.id, "fqdn_connection")}
    assert [each.id for each in client.ip_connections.list(filter={"outbound_voice_profile_id": profile.id})] == [
        ip.id]

    updated = client.ip_connections.update(ip.id, active=False, tags=["pbx"]).data
    assert updated is not None
    assert (updated.active, updated.tags) == (False, ["pbx"])
    fetched = client.ip_connections.retrieve(ip.id).data
    assert fetched is not None
    assert fetched.to_dict(mode="json") == updated.to_dict(mode="json")
    assert credential.id is not None
    client.credential_connections.delete(credential.id)
    client.fqdn_connections.delete(fqdn.id)
    with pytest.raises(telnyx.UnprocessableEntityError):  # the IP connection still uses it
        client.outbound_voice_profiles.delete(profile.id)

    deleted = client.ip_connections.delete(ip.id).data
    assert deleted is not None
    assert deleted.id == ip.id
    with pytest.raises(telnyx.NotFoundError):
        client.ip_connections.retrieve(ip.id)
    gone = client.outbound_voice_profiles.delete(profile.id).data
    assert gone is not None
    assert gone.connections_count == 0
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.ip_connections.create(connection_name="bad", encrypted_media="SRTP")
    assert first_error(caught.value)["source"] == {"pointer": "/encrypted_media"}


def test_the_async_client_drives_ip_connections(server: OvpServer, account: str) -> None:
    async def run() -> tuple[list[str | None], str | None, bool | None]:
        async with server.async_client(account) as sdk:
            created = (await sdk.ip_connections.create(connection_name="async pbx")).data
            assert created is not None
            assert created.id is not None
            listed = [each.id async for each in sdk.ip_connections.list()]
            updated = (await sdk.ip_connections.update(created.id, active=False)).data
            retrieved = (await sdk.ip_connections.retrieve(created.id)).data
            assert retrieved is not None
            assert retrieved.active is False
            deleted = (await sdk.ip_connections.delete(created.id)).data
            assert deleted is not None
            return listed, deleted.id, None if updated is None else updated.active

    listed, deleted_id, active = asyncio.run(run())
    assert listed == [deleted_id]
    assert active is False


def test_an_ip_connection_s_ips_through_the_sdk(client: telnyx.Telnyx) -> None:
    connection = client.ip_connections.create(connection_name="pbx").data
    assert connection is not None
    assert connection.id is not None
    ip = client.ips.create(ip_address="192.0.2.1", connection_id=connection.id).data
    assert ip is not None
    assert ip.id is not None
    assert (ip.record_type, ip.ip_address, ip.port, ip.connection_id) == ("ip", "192.0.2.1", 5060, connection.id)
    client.ips.create(ip_address="198.51.100.7")
    assert [each.id for each in client.ips.list(filter={"connection_id": connection.id})] == [ip.id]
    moved = client.ips.update(ip.id, ip_address="192.0.2.2", port=5080).data
    assert moved is not None
    assert (moved.ip_address, moved.port) == ("192.0.2.2", 5080)
    fetched = client.ips.retrieve(ip.id).data
    assert fetched is not None
    assert fetched.to_dict(mode="json") == moved.to_dict(mode="json")
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.ips.create(ip_address="192.0.2.2", port=5080)  # the address and port are taken
    deleted = client.ips.delete(ip.id).data
    assert deleted is not None
    assert deleted.id == ip.id
    with pytest.raises(telnyx.NotFoundError):
        client.ips.retrieve(ip.id)


def test_the_async_client_drives_ips(server: OvpServer, account: str) -> None:
    async def run() -> tuple[str | None, list[str | None]]:
        async with server.async_client(account) as sdk:
            created = (await sdk.ips.create(ip_address="203.0.113.5")).data
            assert created is not None
            assert created.id is not None
            listed = [each.id async for each in sdk.ips.list(filter={"ip_address": "203.0.113.5"})]
            moved = (await sdk.ips.update(created.id, ip_address="203.0.113.6")).data
            assert moved is not None
            retrieved = (await sdk.ips.retrieve(created.id)).data
            assert retrieved is not None
            assert retrieved.ip_address == "203.0.113.6"
            deleted = (await sdk.ips.delete(created.id)).data
            return None if deleted is None else deleted.id, listed

    deleted_id, listed = asyncio.run(run())
    assert listed == [deleted_id]
