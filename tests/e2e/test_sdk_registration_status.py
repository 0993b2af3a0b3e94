"""`credential_connections.actions.check_registration_status` of the official `telnyx` Python SDK, sync
and async, against a real `ovp serve` process, answering from what a switch told ovp of the
connection's REGISTERs (POST /ovp/sip_registrations, sent here as a switch sends it)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
import telnyx

from tests.e2e.servers import OvpServer

pytestmark = pytest.mark.e2e

PHONE = {"contact": "sip:frontdesk1@192.0.2.10:5062;transport=udp", "ip_address": "192.0.2.10", "port": 5062,
         "transport": "UDP", "user_agent": "Grandstream GXP2170 1.0.11.23"}


def switch_reports(http: httpx.Client, user_name: str, expires: int) -> dict[str, Any]:
    response = http.post("/ovp/sip_registrations", json={"user_name": user_name, "expires": expires, **PHONE})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def new_connection(client: telnyx.Telnyx, user_name: str) -> str:
    created = client.credential_connections.create(connection_name="Front desk", user_name=user_name,
                                                   password="my123secure456password789").data
    assert created is not None
    assert created.id is not None
    return created.id


def test_the_status_follows_registration_expiry_and_removal(client: telnyx.Telnyx, http: httpx.Client) -> None:
    connection_id = new_connection(client, "frontdesk1")
    check = client.credential_connections.actions.check_registration_status

    before = check(connection_id).data
    assert before is not None
    assert before.to_dict(mode="json") == {
        "record_type": "registration_status", "status": "Not Registered", "sip_username": "frontdesk1",
        "ip_address": None, "port": None, "transport": None, "user_agent": None, "last_registration": None}

    told = switch_reports(http, "FrontDesk1", 3600)
    registered = check(connection_id).data
    assert registered is not None
    assert (registered.status, registered.sip_username, registered.ip_address, registered.port,
            registered.transport, registered.user_agent) == (
        "Registered", "frontdesk1", "192.0.2.10", 5062, "UDP", "Grandstream GXP2170 1.0.11.23")
    assert registered.last_registration == told["registered_at"][:19]

    switch_reports(http, "frontdesk1", 0)  # the phone unregistered
    removed = check(connection_id).data
    assert removed is not None
    assert (removed.status, removed.ip_address, removed.last_registration) == ("Not Registered", None, None)

    switch_reports(http, "frontdesk1", 1)
    time.sleep(1.2)  # the server's clock is the wall clock: a second later the binding has expired
    expired = check(connection_id).data
    assert expired is not None
    assert (expired.status, expired.user_agent) == ("Expired", "Grandstream GXP2170 1.0.11.23")

    client.credential_connections.delete(connection_id)
    with pytest.raises(telnyx.NotFoundError):
        check(connection_id)


def test_the_async_client_checks_the_registration_status(
    client: telnyx.Telnyx, http: httpx.Client, server: OvpServer, account: str,
) -> None:
    connection_id = new_connection(client, "asyncdesk1")
    switch_reports(http, "asyncdesk1", 600)

    async def run() -> tuple[str | None, str | None]:
        async with server.async_client(account) as sdk:
            status = (await sdk.credential_connections.actions.check_registration_status(connection_id)).data
            assert status is not None
            with pytest.raises(telnyx.NotFoundError):
                await sdk.credential_connections.actions.check_registration_status("1293384261075731499")
            return status.status, status.user_agent

    assert asyncio.run(run()) == ("Registered", "Grandstream GXP2170 1.0.11.23")
