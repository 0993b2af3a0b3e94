"""Call webhooks, in-process app and a real receiver: Telnyx's events of each decision, signed as
Telnyx signs them (verified with the official Python SDK), and what was delivered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import telnyx

from tests.api.test_calls_http import CALLS, answer, connection, end, load_deck, through
from tests.conftest import Api
from tests.webhook_receiver import Receiver, start_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.close()


@pytest.fixture
def ready(api: Api) -> Api:
    load_deck(api)
    return api


def public_key(api: Api) -> str:
    response = api.request("GET", "/ovp/webhook_signing_key")
    assert response.status_code == 200, response.text
    key: str = response.json()["data"]["public_key"]
    return key


def unwrapped(api: Api, received: Any) -> Any:
    with telnyx.Telnyx(api_key="unused", base_url="http://127.0.0.1:9/v2") as client:
        return client.webhooks.unwrap(received.body, headers=received.headers, key=public_key(api))


def test_a_calls_events_arrive_in_order_signed_as_telnyx_signs(ready: Api, receiver: Receiver) -> None:
    trunk = connection(ready, ready.create(), "hooked", webhook_event_url=receiver.url, call_cost_in_webhooks=True)
    call = through(ready, trunk)
    answer(ready, call["id"])
    end(ready, call["id"], 61, answered=False)
    events = [unwrapped(ready, received) for received in receiver.wait_for(4)]
    assert [event.data.event_type for event in events] == ["call.initiated", "call.answered", "call.hangup",
                                                           "call.cost"]
    initiated, answered, hangup, cost = (event.data for event in events)
    assert answered.payload.state == "answered"
    assert initiated.payload.connection_id == trunk
    assert initiated.payload.call_control_id == f"v3:{call['id']}"
    assert {event.data.payload.call_leg_id for event in events} == {initiated.payload.call_leg_id}
    assert (initiated.payload.from_, initiated.payload.to) == (call["from"], call["to"])
    assert (hangup.payload.hangup_cause, hangup.payload.sip_hangup_cause) == ("normal_clearing", "200")
    assert cost.payload.total_cost == "0.010000"  # two minutes at 0.005
    assert cost.payload.billed_duration_secs == 120
    assert len({event.data.id for event in events}) == 4


def test_a_refusal_sends_its_hangup_with_the_refusals_sip_status(ready: Api, receiver: Receiver) -> None:
    trunk = connection(ready, ready.create(concurrent_call_limit=1), "full", webhook_event_url=receiver.url)
    through(ready, trunk)
    refused = through(ready, trunk)
    assert refused["code"] == "D2"
    events = [unwrapped(ready, received) for received in receiver.wait_for(2)]
    (event,) = [event for event in events if event.data.event_type == "call.hangup"]
    assert (event.data.payload.hangup_cause, event.data.payload.sip_hangup_cause) == ("call_rejected", "403")
    assert event.data.payload.call_control_id == f"v3:{refused['id']}"


def test_a_changed_body_or_timestamp_is_refused_by_the_sdk(ready: Api, receiver: Receiver) -> None:
    through(ready, connection(ready, ready.create(), "signed", webhook_event_url=receiver.url))
    (received,) = receiver.wait_for(1)
    assert unwrapped(ready, received).data.event_type == "call.initiated"
    changed = json.loads(received.body)
    changed["data"]["payload"]["to"] = "+19005550100"
    with pytest.raises(ValueError, match="Signature verification failed"):
        unwrapped(ready, type(received)(received.path, received.headers, json.dumps(changed)))
    moved = {**received.headers, "telnyx-timestamp": str(int(received.headers["telnyx-timestamp"]) + 1)}
    with pytest.raises(ValueError, match="Signature verification failed"):
        unwrapped(ready, type(received)(received.path, moved, received.body))


def test_no_url_no_events_and_what_was_delivered_is_listed(ready: Api, receiver: Receiver) -> None:
    silent = through(ready, connection(ready, ready.create(), "silent"))
    end(ready, silent["id"], 10)
    call = through(ready, connection(ready, ready.create(), "loud", webhook_event_url=receiver.url))
    receiver.wait_for(1)
    listed = ready.request("GET", "/v2/webhook_deliveries").json()
    assert listed["meta"]["total_results"] == 1
    (delivery,) = listed["data"]
    assert delivery["status"] == "delivered"
    assert delivery["webhook"]["payload"]["call_control_id"] == f"v3:{call['id']}"
    assert delivery["attempts"][0]["http"]["response"]["status"] == 200
    one = ready.request("GET", f"/v2/webhook_deliveries/{delivery['id']}").json()["data"]
    assert one == delivery
    assert ready.request("GET", f"{CALLS}/{silent['id']}").json()["data"]["status"] == "ended"
