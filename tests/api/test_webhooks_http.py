"""Call webhooks, in-process app and a real receiver: Telnyx's events of each decision, signed as
Telnyx signs them (verified with the official Python SDK), and what was delivered."""

from __future__ import annotations

import itertools
import json
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import telnyx

from ovp.domain.clock import CLOCK
from ovp.store.webhooks import Destination
from ovp.webhooks.sender import LEASE_MS, lease_has_room
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


def free_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


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
    (delivery,) = settled(ready, 1)  # the sender records results in batches, after the receiver's reply
    assert deliveries(ready)["meta"]["total_results"] == 1
    assert delivery["status"] == "delivered"
    assert delivery["webhook"]["payload"]["call_control_id"] == f"v3:{call['id']}"
    assert delivery["attempts"][0]["http"]["response"]["status"] == 200
    one = ready.request("GET", f"/v2/webhook_deliveries/{delivery['id']}").json()["data"]
    assert one == delivery
    assert ready.request("GET", f"{CALLS}/{silent['id']}").json()["data"]["status"] == "ended"


def test_an_attempt_keeps_the_first_10_kb_of_the_answer_and_no_cookie(ready: Api, receiver: Receiver) -> None:
    # 3 bytes a character, so that the 10,000th byte falls inside one: that character is left out.
    receiver.behaviour.answer = ("€" * 20_000).encode()
    receiver.behaviour.headers = {"Set-Cookie": "session=of-one-receiver", "X-Receiver": "kept"}
    call = through(ready, connection(ready, ready.create(), "talkative", webhook_event_url=receiver.url))
    end(ready, call["id"], 5)
    first, *later = receiver.wait_for(3)
    assert all("cookie" not in received.headers for received in [first, *later])
    attempt = settled(ready, 3)[0]["attempts"][0]
    assert attempt["http"]["response"]["body"] == "€" * 3_333
    assert ["X-Receiver", "kept"] in attempt["http"]["response"]["headers"]


def test_an_attempt_records_the_headers_it_sent(ready: Api, receiver: Receiver) -> None:
    through(ready, connection(ready, ready.create(), "recorded", webhook_event_url=receiver.url))
    (received,) = receiver.wait_for(1)
    (delivery,) = settled(ready, 1)
    recorded = {name.lower(): value for name, value in delivery["attempts"][0]["http"]["request"]["headers"]}
    transport = {"host", "content-length"}
    assert recorded == {name: value for name, value in received.headers.items() if name not in transport}
    assert set(recorded) >= {"content-type", "user-agent", "telnyx-signature-ed25519", "telnyx-timestamp"}


def deliveries(api: Api, **params: str) -> dict[str, Any]:
    response = api.request("GET", "/v2/webhook_deliveries", params=params)
    assert response.status_code == 200, response.text
    listed: dict[str, Any] = response.json()
    return listed


def settled(api: Api, count: int, *, tried_only: bool = False, timeout_s: float = 20.0) -> list[dict[str, Any]]:
    """The account's deliveries once `count` of them are delivered or failed (`tried_only`: tried
    at least once)."""
    deadline = time.monotonic() + timeout_s
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = deliveries(api, **{"page[size]": "250"})["data"]
        done = [delivery for delivery in found if (delivery["attempts"] if tried_only else delivery["status"])]
        if len(done) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"fewer than {count} deliveries settled: {found}")


def test_a_failing_receiver_gets_the_same_event_again_until_it_takes_it(ready: Api, receiver: Receiver) -> None:
    receiver.behaviour.fail_first = 2
    through(ready, connection(ready, ready.create(), "flaky", webhook_event_url=receiver.url))
    (received,) = receiver.wait_for(1, timeout_s=20)
    assert len(receiver.refused) == 2
    assert {json.loads(body)["data"]["id"] for body in receiver.refused} == {json.loads(received.body)["data"]["id"]}
    (delivery,) = settled(ready, 1)
    assert delivery["status"] == "delivered"
    assert [attempt["status"] for attempt in delivery["attempts"]] == ["delivered", "failed", "failed"]
    assert [attempt["http"]["response"]["status"] for attempt in delivery["attempts"]] == [200, 500, 500]
    assert delivery["attempts"][1]["errors"] == [3]
    started = [datetime.fromisoformat(attempt["started_at"]) for attempt in reversed(delivery["attempts"])]
    waits = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(started)]
    assert 0.7 <= waits[0] <= 1.5  # about a second, then about two
    assert 1.4 <= waits[1] <= 3.0


def test_the_failover_url_takes_what_the_primary_refused(ready: Api, receiver: Receiver) -> None:
    closed = f"http://127.0.0.1:{free_port()}/gone"
    through(ready, connection(ready, ready.create(), "failover", webhook_event_url=closed,
                              webhook_event_failover_url=receiver.url))
    assert unwrapped(ready, receiver.wait_for(1)[0]).data.event_type == "call.initiated"
    (delivery,) = settled(ready, 1)
    primary, failover = reversed(delivery["attempts"])
    assert (primary["http"]["request"]["url"], primary["errors"], primary["http"]["response"]) == (closed, [1], None)
    assert (failover["http"]["request"]["url"], failover["status"]) == (receiver.url, "delivered")


def test_a_calls_events_keep_their_order_when_the_first_must_be_sent_again(ready: Api, receiver: Receiver) -> None:
    receiver.behaviour.fail_first = 1
    trunk = connection(ready, ready.create(), "ordered", webhook_event_url=receiver.url)
    call = through(ready, trunk)
    end(ready, call["id"], 5)  # answered, then ended, while the call.initiated waits for its retry
    types = [json.loads(received.body)["data"]["event_type"] for received in receiver.wait_for(3, timeout_s=20)]
    assert types == ["call.initiated", "call.answered", "call.hangup"]


def test_a_calls_events_written_while_its_first_is_in_flight_follow_it_in_order(ready: Api,
                                                                              receiver: Receiver) -> None:
    receiver.behaviour.delay_s = 0.6
    trunk = connection(ready, ready.create(), "inflight", webhook_event_url=receiver.url)
    call = through(ready, trunk)
    deadline = time.monotonic() + 5
    while receiver.arrived == 0 and time.monotonic() < deadline:  # the call.initiated is being answered
        time.sleep(0.01)
    assert receiver.arrived == 1
    end(ready, call["id"], 5)  # its answer and end, written while the claim leaves its call alone
    types = [json.loads(received.body)["data"]["event_type"] for received in receiver.wait_for(3)]
    assert types == ["call.initiated", "call.answered", "call.hangup"]
    found = {delivery["webhook"]["event_type"]: delivery for delivery in settled(ready, 3)}
    assert all(len(delivery["attempts"]) == 1 for delivery in found.values())
    initiated = datetime.fromisoformat(found["call.initiated"]["attempts"][0]["finished_at"])
    assert datetime.fromisoformat(found["call.answered"]["attempts"][0]["started_at"]) >= initiated


def test_a_backlog_of_a_calls_events_goes_out_in_order_when_one_must_be_sent_again(ready: Api,
                                                                                 receiver: Receiver) -> None:
    receiver.behaviour.fail_types = {"call.answered": 1}
    trunk = connection(ready, ready.create(), "backlogged", webhook_event_url=f"http://127.0.0.1:{free_port()}/gone")
    call = through(ready, trunk)
    end(ready, call["id"], 5)  # its three events wait together for a receiver
    settled(ready, 1, tried_only=True)
    response = ready.request("PATCH", f"/v2/credential_connections/{trunk}", json={"webhook_event_url": receiver.url})
    assert response.status_code == 200, response.text
    types = [json.loads(received.body)["data"]["event_type"] for received in receiver.wait_for(3, timeout_s=20)]
    assert types == ["call.initiated", "call.answered", "call.hangup"]
    assert [json.loads(body)["data"]["event_type"] for body in receiver.refused] == ["call.answered"]
    found = {delivery["webhook"]["event_type"]: delivery for delivery in settled(ready, 3)}
    assert len(found["call.initiated"]["attempts"]) >= 2  # the dead URL's, then the receiver's
    assert [attempt["status"] for attempt in found["call.answered"]["attempts"]] == ["delivered", "failed"]
    (hangup,) = found["call.hangup"]["attempts"]
    answered = datetime.fromisoformat(found["call.answered"]["attempts"][0]["finished_at"])
    assert datetime.fromisoformat(hangup["started_at"]) >= answered  # not sent before the event ahead of it


def test_a_chain_goes_on_only_while_its_lease_has_room_for_the_next_events_attempts() -> None:
    slow = Destination("http://127.0.0.1:9/hooks", "http://127.0.0.1:9/failover", 30)
    usual = Destination("http://127.0.0.1:9/hooks", None, None)  # the default timeout: 10 s
    claimed_at, lease_s = 100.0, LEASE_MS / 1000
    # Two attempts of 30 s each (the primary and the failover URL), and a second to spare.
    assert lease_has_room(claimed_at, slow, claimed_at + lease_s - 62)
    assert not lease_has_room(claimed_at, slow, claimed_at + lease_s - 61)
    # One attempt of 10 s, and a second.
    assert lease_has_room(claimed_at, usual, claimed_at + lease_s - 12)
    assert not lease_has_room(claimed_at, usual, claimed_at + lease_s - 11)


def test_a_hung_receiver_times_out_and_holds_up_no_one_else(ready: Api, receiver: Receiver) -> None:
    hung = start_receiver()
    hung.behaviour.delay_s = 30
    try:
        slow = connection(ready, ready.create(), "hung", webhook_event_url=hung.url, webhook_timeout_secs=1)
        quick = connection(ready, ready.create(), "quick", webhook_event_url=receiver.url)
        for _ in range(12):  # more than a receiver's share of the sender's slots
            through(ready, slow)
        started = time.monotonic()
        through(ready, quick)
        receiver.wait_for(1, timeout_s=5)
        assert time.monotonic() - started < 3
        failed_once = [delivery for delivery in settled(ready, 8, tried_only=True)
                       if delivery["attempts"] and delivery["attempts"][0]["errors"] == [2]]
        assert failed_once, "the hung receiver's attempts end by its webhook_timeout_secs"
    finally:
        hung.close()


def test_a_call_that_expires_unended_sends_its_hangup(ready: Api, receiver: Receiver) -> None:
    try:
        ready.request("POST", "/_ovp/admin/clock", json={"now": "2026-06-01T12:00:00Z"})
        call = through(ready, connection(ready, ready.create(), "expiring", webhook_event_url=receiver.url))
        ready.request("POST", "/_ovp/admin/clock", json={"advance_secs": 121})  # past the set-up timeout
        hangup = json.loads(receiver.wait_for(2, timeout_s=10)[1].body)["data"]
        assert hangup["event_type"] == "call.hangup"
        assert (hangup["payload"]["hangup_cause"], hangup["payload"]["sip_hangup_cause"]) == ("timeout", "408")
        assert hangup["payload"]["call_control_id"] == f"v3:{call['id']}"
        assert hangup["occurred_at"] == "2026-06-01T12:02:00.000Z"  # when the set-up timed out
        end(ready, call["id"], 0, answered=False)  # a late end sends no second hangup
        time.sleep(1.0)
        assert len(receiver.bodies()) == 2
    finally:
        CLOCK.reset()


def test_deliveries_are_filtered_as_the_sdk_asks(ready: Api, receiver: Receiver) -> None:
    trunk = connection(ready, ready.create(), "listed", webhook_event_url=receiver.url)
    call = through(ready, trunk)
    end(ready, call["id"], 5)
    receiver.wait_for(3)
    settled(ready, 3)
    hangups = deliveries(ready, **{"filter[event_type]": "call.hangup", "filter[status][eq]": "delivered"})["data"]
    assert [delivery["webhook"]["event_type"] for delivery in hangups] == ["call.hangup"]
    assert sorted(delivery["webhook"]["event_type"] for delivery in deliveries(
        ready, **{"filter[event_type]": "call.initiated,call.answered"})["data"]) == ["call.answered", "call.initiated"]
    assert deliveries(ready, **{"filter[webhook][contains]": f"v3:{call['id']}"})["meta"]["total_results"] == 3
    assert deliveries(ready, **{"filter[webhook][contains]": "100%_sure"})["meta"]["total_results"] == 0
    assert deliveries(ready, **{"filter[status][eq]": "failed"})["meta"]["total_results"] == 0
    # Any of Telnyx's event types may be asked for (the SDKs take a string): ovp sends none of these.
    assert deliveries(ready, **{"filter[event_type]": "call.bridged,message.received"})["meta"]["total_results"] == 0
    assert deliveries(ready, **{"filter[event_type]": "call.bridged,call.hangup"})["meta"]["total_results"] == 1
    bad = ready.request("GET", "/v2/webhook_deliveries", params={"filter[status][eq]": "lost",
                                                                 "filter[event_type]": "call.hangup,hangup",
                                                                 "filter[started_at][gte]": "yesterday",
                                                                 "filter[attempts][contains]": "a" * 256,
                                                                 "filter[webhook][contains]": "v3\x00"})
    assert bad.status_code == 422
    assert sorted(error["source"]["parameter"] for error in bad.json()["errors"]) == [
        "filter[attempts][contains]", "filter[event_type]", "filter[started_at][gte]", "filter[status][eq]",
        "filter[webhook][contains]"]


def test_the_backlog_and_the_deliveries_are_in_the_metrics(ready: Api, receiver: Receiver) -> None:
    through(ready, connection(ready, ready.create(), "counted", webhook_event_url=receiver.url))
    receiver.wait_for(1)
    settled(ready, 1)
    text = ready.request("GET", "/metrics").text
    assert 'ovp_webhook_deliveries_total{outcome="delivered"}' in text
    assert "ovp_webhook_backlog 0.0" in text
    assert "ovp_webhook_backlog_oldest_seconds 0.0" in text


def test_the_journal_shows_each_attempt_beside_the_requests(ready: Api, receiver: Receiver) -> None:
    receiver.behaviour.fail_first = 1
    through(ready, connection(ready, ready.create(), "journaled", webhook_event_url=receiver.url))
    receiver.wait_for(1, timeout_s=20)
    settled(ready, 1)
    entries = ready.request("GET", "/_ovp/admin/journal").json()["data"]
    sent = [(entry["method"], entry["path"], entry["status"]) for entry in entries if entry["kind"] == "webhook"]
    assert sent == [("POST", receiver.url, 500), ("POST", receiver.url, 200)]
    (attempted,) = {json.dumps(entry["body"]) for entry in entries if entry["kind"] == "webhook"}
    assert json.loads(attempted)["data"]["event_type"] == "call.initiated"
    assert {entry["kind"] for entry in entries} == {"request", "webhook"}
