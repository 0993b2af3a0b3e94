"""`client.detail_records` of the official `telnyx` Python SDK, sync and async, against a real
`ovp serve` process: the calls ovp decided, once over, and its refusals, as sip-trunking detail
records, filtered, sorted and paged as the SDK asks, and each bad parameter as the SDK's exception.

The SDK's types have no sip-trunking record: it reads one as another of its detail record models,
every field reachable by name. The server's clock is frozen while the records are made, so that
`date_range` is asked about known days, and set back to the wall clock at the end."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import httpx
import pytest
import telnyx

from tests.e2e.servers import OvpServer

pytestmark = pytest.mark.e2e

CALLER = "+12025550100"
BR = "+5511912345678"


def sip(**fields: object) -> Any:
    """The SDK's `filter` of sip-trunking records: its type names only the record type and the date
    range, and takes any other field."""
    return {"record_type": "sip-trunking", **fields}


def _ids(records: Iterable[Any]) -> list[str]:
    return [str(record.to_dict()["id"]) for record in records]


def _ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()["data"]
    return data


def _leg(record: dict[str, Any]) -> str:
    return str(uuid.UUID(int=int(record["id"])))


@pytest.fixture
def calls(http: httpx.Client) -> Iterator[dict[str, Any]]:
    """On 2026-03-10 (frozen): a call answered and ended after 42 s, then a refusal by D13; the day
    before, a refusal by D15; at 12:00, where the clock is left, a call still ringing."""
    _ok(http.put("/ovp/rates", content="prefix,rate\n1,0.0100\n", headers={"Content-Type": "text/csv"}))
    profile = _ok(http.post("/v2/outbound_voice_profiles", json={"name": "office"}))
    disabled = _ok(http.post("/v2/outbound_voice_profiles", json={"name": "off", "enabled": False}))

    def ask(profile_id: str, to: str = "+14155552671") -> dict[str, Any]:
        return _ok(http.post("/ovp/call_authorizations", json={"outbound_voice_profile_id": profile_id, "to": to,
                                                               "from": CALLER}))

    def clock(**body: object) -> None:
        _ok(http.post("/_ovp/admin/clock", json=body))

    try:
        clock(now="2026-03-09T18:00:00Z")
        yesterday = ask(disabled["id"])
        clock(now="2026-03-10T09:00:00Z")
        ended = ask(profile["id"])
        clock(advance_secs=3)
        _ok(http.post(f"/ovp/call_authorizations/{ended['id']}/actions/answer"))
        clock(advance_secs=42)
        _ok(http.post(f"/ovp/call_authorizations/{ended['id']}/actions/end", json={"duration_secs": 42}))
        refused = ask(profile["id"], BR)
        clock(now="2026-03-10T12:00:00Z")
        ringing = ask(profile["id"])
        assert [yesterday["code"], refused["code"], ringing["decision"]] == ["D15", "D13", "allowed"]
        yield {"profile": profile, "yesterday": yesterday, "ended": ended, "refused": refused, "ringing": ringing}
    finally:
        _ok(http.delete("/_ovp/admin/clock"))  # the server is shared: back to the wall clock


def test_the_sdk_lists_filters_sorts_and_pages_detail_records(client: telnyx.Telnyx,
                                                              calls: dict[str, Any]) -> None:
    newest_first = [_leg(calls[name]) for name in ("refused", "ended", "yesterday")]
    records = client.detail_records.list(filter=sip(), page_size=1)
    assert _ids(records) == newest_first  # every page, through the SDK's paging
    assert records.meta is not None
    assert (records.meta.page_number, records.meta.total_pages) == (1, 3)

    ended = client.detail_records.list(filter=sip(id=_leg(calls["ended"]))).data[0].to_dict()
    assert {key: ended[key] for key in ("record_type", "cli", "cld", "started_at", "answered_at", "finished_at",
                                        "call_sec", "billed_sec", "rate", "cost", "currency", "hangup_cause",
                                        "outbound_profile_id")} == {
        "record_type": "sip-trunking", "cli": CALLER, "cld": "+14155552671", "started_at": "2026-03-10T09:00:00.000Z",
        "answered_at": "2026-03-10T09:00:03.000Z", "finished_at": "2026-03-10T09:00:45.000Z", "call_sec": 42,
        "billed_sec": 60, "rate": "0.0100", "cost": "0.010000", "currency": "USD", "hangup_cause": "NORMAL_CLEARING",
        "outbound_profile_id": calls["profile"]["id"]}
    refused = [record.to_dict() for record in client.detail_records.list(filter=sip(telnyx_error_code="D13"))]
    assert [(record["cld"], record["sip_invite_failure_status"]) for record in refused] == [(BR, "403")]

    assert _ids(client.detail_records.list(filter=sip(), sort=["started_at"])) == newest_first[::-1]
    assert _ids(client.detail_records.list(filter=sip(), sort=["-answered_at", "started_at"])) == [
        newest_first[1], newest_first[2], newest_first[0]]
    assert _ids(client.detail_records.list(filter=sip(date_range="yesterday"))) == newest_first[2:]
    assert _ids(client.detail_records.list(filter=sip(started_at={"gte": "2026-03-10T09:00:00Z",
                                                                  "lt": "2026-03-10T09:00:45Z"}))) == newest_first[1:2]
    assert list(client.detail_records.list(filter={"record_type": "messaging"})) == []


def _parameters(error: telnyx.APIStatusError) -> list[str]:
    body: Any = error.body
    return [problem["source"]["parameter"] for problem in body["errors"]]


def test_each_bad_parameter_is_the_sdks_exception(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as missing:
        client.detail_records.list()
    assert _parameters(missing.value) == ["filter[record_type]"]
    with pytest.raises(telnyx.UnprocessableEntityError) as bad:
        client.detail_records.list(filter=sip(date_range="fortnight"))
    assert _parameters(bad.value) == ["filter[date_range]"]
    with pytest.raises(telnyx.BadRequestError) as unknown:  # Telnyx's records have no created_at
        client.detail_records.list(filter=sip(created_at={"gte": "2026-03-01"}))
    assert _parameters(unknown.value) == ["filter[created_at][gte]"]
    with pytest.raises(telnyx.BadRequestError) as unsorted:
        client.detail_records.list(filter=sip(), sort=["-created_at"])
    assert _parameters(unsorted.value) == ["sort"]


def test_the_async_client_pages_detail_records(server: OvpServer, account: str, calls: dict[str, Any]) -> None:
    async def read() -> tuple[list[str], list[str]]:
        async with server.async_client(account) as sdk:
            every = [str(record.to_dict()["id"]) async for record in sdk.detail_records.list(filter=sip(),
                                                                                              page_size=2)]
            today = await sdk.detail_records.list(filter=sip(date_range="today"), sort=["finished_at"])
            return every, _ids(today.data)

    every, today = asyncio.run(read())
    assert every == [_leg(calls[name]) for name in ("refused", "ended", "yesterday")]
    assert today == [_leg(calls[name]) for name in ("ended", "refused")]
