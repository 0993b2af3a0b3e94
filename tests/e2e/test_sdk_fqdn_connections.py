"""`client.fqdn_connections` (with its `fqdn_authentication`) and `client.fqdns` of the official
`telnyx` Python SDK, sync and async, against a real `ovp serve` process, and the connections list
filtered by FQDN."""

from __future__ import annotations

import asyncio

import pytest
import telnyx

from tests.e2e.servers import OvpServer
from tests.e2e.test_sdk import first_error

pytestmark = pytest.mark.e2e


def test_fqdn_connections_and_their_fqdns(client: telnyx.Telnyx) -> None:
    profile = client.outbound_voice_profiles.create(name="by name").data
    assert profile is not None
    assert profile.id is not None
    connection = client.fqdn_connections.create(connection_name="pbx", transport_protocol="TLS", outbound={
        "outbound_voice_profile_id": profile.id, "tech_prefix": "1234"}).data
    assert connection is not None
    assert connection.id is not None
    assert (connection.record_type, connection.transport_protocol) == ("fqdn_connection", "TLS")
    assert connection.outbound is not None
    assert connection.outbound.tech_prefix == "1234"
    fqdn = client.fqdns.create(connection_id=connection.id, fqdn="pbx.example.com", dns_record_type="a").data
    assert fqdn is not None
    assert fqdn.id is not None
    assert (fqdn.record_type, fqdn.port) == ("fqdn", 5060)
    assert [each.id for each in client.fqdns.list(filter={"connection_id": connection.id})] == [fqdn.id]
    assert [each.id for each in client.connections.list(filter={"fqdn": "pbx.example.com"})] == [connection.id]
    assert [each.id for each in client.fqdn_connections.list(filter={"fqdn": "pbx.example.com"})] == [connection.id]
    retrieved = client.outbound_voice_profiles.retrieve(profile.id).data
    assert retrieved is not None
    assert retrieved.connections_count == 1

    updated = client.fqdn_connections.update(connection.id, active=False).data
    assert updated is not None
    assert updated.active is False
    fetched = client.fqdn_connections.retrieve(connection.id).data
    assert fetched is not None
    assert fetched.to_dict(mode="json") == updated.to_dict(mode="json")
    moved = client.fqdns.update(fqdn.id, port=5070).data
    assert moved is not None
    assert moved.port == 5070
    assert client.fqdns.retrieve(fqdn.id).data is not None
    deleted_fqdn = client.fqdns.delete(fqdn.id).data
    assert deleted_fqdn is not None
    deleted = client.fqdn_connections.delete(connection.id).data
    assert deleted is not None
    assert deleted.id == connection.id
    with pytest.raises(telnyx.NotFoundError):
        client.fqdn_connections.retrieve(connection.id)


def test_the_async_client_drives_fqdn_connections(server: OvpServer, account: str) -> None:
    async def run() -> tuple[list[str | None], list[str | None]]:
        async with server.async_client(account) as sdk:
            created = (await sdk.fqdn_connections.create(connection_name="async pbx")).data
            assert created is not None
            assert created.id is not None
            fqdn = (await sdk.fqdns.create(connection_id=created.id, fqdn="sip.example.org",
                                           dns_record_type="srv")).data
            assert fqdn is not None
            assert fqdn.id is not None
            fqdns = [each.fqdn async for each in sdk.fqdns.list()]
            assert (await sdk.fqdns.update(fqdn.id, fqdn="sip.example.net")).data is not None
            fetched = (await sdk.fqdns.retrieve(fqdn.id)).data
            assert fetched is not None
            assert fetched.fqdn == "sip.example.net"
            listed = [each.id async for each in sdk.fqdn_connections.list()]
            renamed = (await sdk.fqdn_connections.update(created.id, connection_name="renamed",
                                                         outbound={"tech_prefix": "0042"})).data
            assert renamed is not None
            retrieved = (await sdk.fqdn_connections.retrieve(created.id)).data
            assert retrieved is not None
            assert retrieved.connection_name == "renamed"
            assert retrieved.outbound is not None
            assert retrieved.outbound.tech_prefix == "0042"
            assert (await sdk.fqdns.delete(fqdn.id)).data is not None
            await sdk.fqdn_connections.delete(created.id)
            return listed, fqdns

    listed, fqdns = asyncio.run(run())
    assert len(listed) == 1
    assert fqdns == ["sip.example.org"]


def test_an_fqdn_connections_authentication(client: telnyx.Telnyx) -> None:
    connection = client.fqdn_connections.create(connection_name="pbx", microsoft_teams_sbc=True).data
    assert connection is not None
    assert connection.id is not None
    authentication = client.fqdn_connections.fqdn_authentication
    patched = authentication.patch_all(
        connection.id, user_name="pbx0001", password="s3cret-pass", fqdn_outbound_authentication="ip-authentication",
        ip_authentication_method="p-charge-info", txt_name="_teams", txt_ttl=300, txt_value="v=ms1",
        webhook_url="https://example.com/hooks", failover_url="https://example.com/failover").data
    assert patched is not None
    assert (patched.id, patched.connection_id, patched.record_type) == (connection.id, connection.id,
                                                                       "fqdn_authentication")
    assert patched.password == "s3cret-pass"  # in full: the PATCH changed it
    listed = authentication.list(connection.id).data
    assert listed is not None
    assert listed.to_dict(mode="json") == {**patched.to_dict(mode="json"), "password": "********"}
    assert (listed.microsoft_teams_sbc, listed.ip_authentication_method, listed.txt_ttl) == (True, "p-charge-info",
                                                                                             300)
    fetched = client.fqdn_connections.retrieve(connection.id).data
    assert fetched is not None
    assert fetched.outbound is not None
    assert (fetched.user_name, fetched.password, fetched.txt_name) == ("pbx0001", "********", "_teams")
    assert fetched.outbound.ip_authentication_method == "ip-authentication"
    assert fetched.webhook_event_failover_url == "https://example.com/failover"
    client.fqdn_connections.update(connection.id, outbound={"ip_authentication_method": "credential-authentication"})
    again = authentication.list(connection.id).data
    assert again is not None
    assert again.fqdn_outbound_authentication == "credential-authentication"
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        authentication.patch_all(connection.id, user_name="no")
    assert first_error(caught.value)["source"] == {"pointer": "/user_name"}
    client.fqdn_connections.delete(connection.id)
    with pytest.raises(telnyx.NotFoundError):
        authentication.list(connection.id)


def test_the_async_client_drives_an_fqdn_connections_authentication(server: OvpServer, account: str) -> None:
    async def run() -> tuple[str | None, str | None, str | None]:
        async with server.async_client(account) as sdk:
            created = (await sdk.fqdn_connections.create(connection_name="async pbx")).data
            assert created is not None
            assert created.id is not None
            authentication = sdk.fqdn_connections.fqdn_authentication
            patched = (await authentication.patch_all(created.id, user_name="async0001", password="s3cret-pass",
                                                      fqdn_outbound_authentication="credential-authentication")).data
            assert patched is not None
            listed = (await authentication.list(created.id)).data
            assert listed is not None
            retrieved = (await sdk.fqdn_connections.retrieve(created.id)).data
            assert retrieved is not None
            return patched.password, listed.password, retrieved.user_name

    assert asyncio.run(run()) == ("s3cret-pass", "********", "async0001")
