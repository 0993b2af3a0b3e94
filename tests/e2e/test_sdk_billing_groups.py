"""`client.billing_groups` of the official `telnyx` Python SDK, sync and async, against a real
`ovp serve` process, and a profile naming a group by its `billing_group_id`."""

from __future__ import annotations

import asyncio

import pytest
import telnyx

from tests.e2e.servers import OvpServer

pytestmark = pytest.mark.e2e


def test_every_billing_group_operation(client: telnyx.Telnyx) -> None:
    created = client.billing_groups.create(name="West coast").data
    assert created is not None
    assert created.id is not None
    assert (created.record_type, created.name, created.deleted_at) == ("billing_group", "West coast", None)
    assert created.created_at is not None

    profile = client.outbound_voice_profiles.create(name="office", billing_group_id=created.id).data
    assert profile is not None
    assert profile.billing_group_id == created.id

    other = client.billing_groups.create(name="East coast").data
    assert other is not None
    assert other.id is not None
    assert [group.id for group in client.billing_groups.list(page_size=1)] == [other.id, created.id]  # both pages
    updated = client.billing_groups.update(created.id, name="Pacific").data
    assert updated is not None
    assert updated.name == "Pacific"
    retrieved = client.billing_groups.retrieve(created.id).data
    assert retrieved is not None
    assert retrieved.to_dict(mode="json") == updated.to_dict(mode="json")

    deleted = client.billing_groups.delete(created.id).data
    assert deleted is not None
    assert deleted.deleted_at is not None
    with pytest.raises(telnyx.NotFoundError):
        client.billing_groups.retrieve(created.id)
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.billing_groups.update(other.id, name="x" * 256)


def test_the_async_client_drives_billing_groups(server: OvpServer, account: str) -> None:
    async def run() -> tuple[str | None, list[str | None], str | None]:
        async with server.async_client(account) as sdk:
            created = (await sdk.billing_groups.create(name="Async")).data
            assert created is not None
            assert created.id is not None
            renamed = (await sdk.billing_groups.update(created.id, name="Renamed")).data
            retrieved = (await sdk.billing_groups.retrieve(created.id)).data
            assert retrieved is not None
            assert retrieved.name == "Renamed"
            listed = [group.id async for group in sdk.billing_groups.list()]
            deleted = (await sdk.billing_groups.delete(created.id)).data
            assert deleted is not None
            return None if renamed is None else renamed.name, listed, deleted.id

    name, listed, deleted_id = asyncio.run(run())
    assert name == "Renamed"
    assert listed == [deleted_id]
