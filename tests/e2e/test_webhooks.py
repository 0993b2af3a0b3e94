"""Call webhooks from real `ovp serve` processes: verified by npm's telnyx SDK, none lost when a
server is killed with SIGKILL mid-backlog, and none sent twice by two servers on one database."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ovp.webhooks.sender import LEASE_MS
from tests.e2e.servers import StartServer, clean_environment
from tests.e2e.test_node_sdk import NODE_DIR, check_installed, node_executable
from tests.webhook_receiver import Receiver, start_receiver

pytestmark = pytest.mark.e2e

TOKEN = "webhooks"
DECK = "prefix,rate\n1,0.0100\n"
CALLS = "/ovp/call_authorizations"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = start_receiver()
    yield started
    started.close()


def prepared(http: httpx.Client, receiver: Receiver) -> str:
    """A connection of the account whose events go to `receiver`."""
    assert http.put("/ovp/rates", content=DECK, headers={"Content-Type": "text/csv"}).status_code == 200
    profile = http.post("/v2/outbound_voice_profiles", json={"name": "hooked"}).json()["data"]["id"]
    trunk = http.post("/v2/credential_connections", json={
        "connection_name": "hooked", "user_name": "hookeduser", "password": "secret-pass-1",
        "webhook_event_url": receiver.url, "outbound": {"outbound_voice_profile_id": profile}})
    assert trunk.status_code == 201, trunk.text
    connection_id: str = trunk.json()["data"]["id"]
    return connection_id


def call(http: httpx.Client, trunk: str) -> str:
    """A call allowed, answered and ended: three events."""
    allowed = http.post(CALLS, json={"connection_id": trunk, "to": "+14155552671", "from": "+12025550100"})
    assert allowed.json()["data"]["decision"] == "allowed", allowed.text
    call_id: str = allowed.json()["data"]["id"]
    assert http.post(f"{CALLS}/{call_id}/actions/answer").status_code == 200
    assert http.post(f"{CALLS}/{call_id}/actions/end", json={"duration_secs": 3}).status_code == 200
    return call_id


def events_of(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(body)["data"] for body in receiver.bodies()]


def wait_for_events(receiver: Receiver, count: int, timeout_s: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if len({event["id"] for event in events_of(receiver)}) >= count:
            return events_of(receiver)
        time.sleep(0.1)
    raise AssertionError(f"{len(events_of(receiver))} events received, {count} expected")


def test_npm_telnyx_verifies_every_event_and_refuses_a_changed_one(start_server: StartServer,
                                                                    receiver: Receiver) -> None:
    node = node_executable()
    check_installed()
    with start_server().http(TOKEN) as http:
        call(http, prepared(http, receiver))
        key = http.get("/ovp/webhook_signing_key").json()["data"]["public_key"]
    received = receiver.wait_for(3)
    webhooks = [{"body": entry.body, "headers": entry.headers} for entry in received]
    changed = {"body": received[0].body.replace("+14155552671", "+14155552672"), "headers": received[0].headers}
    stale = str(int(time.time()) - 600)
    late = {"body": received[0].body, "headers": {**received[0].headers, "telnyx-timestamp": stale}}
    verified = subprocess.run([node, str(NODE_DIR / "verify_webhooks.mjs")], cwd=NODE_DIR, env=clean_environment(),
                              input=json.dumps({"key": key, "webhooks": [*webhooks, changed, late]}),
                              capture_output=True, text=True, timeout=60, check=True)
    results = json.loads(verified.stdout)
    assert results[:3] == [{"ok": True, "event_type": kind} for kind in ("call.initiated", "call.answered",
                                                                          "call.hangup")]
    assert not results[3]["ok"]
    assert "signature does not match" in results[3]["error"]
    assert not results[4]["ok"]
    assert "too old" in results[4]["error"]


def test_a_server_killed_mid_backlog_loses_no_event(start_server: StartServer, receiver: Receiver) -> None:
    receiver.behaviour.fail_first = 10**9  # down (500): every event waits in the backlog
    first = start_server()
    with first.http(TOKEN) as http:
        trunk = prepared(http, receiver)
        calls = [call(http, trunk) for _ in range(20)]
    time.sleep(1.5)  # some attempts made and failed, their retries scheduled
    first.process.kill()  # SIGKILL, by its PID
    first.process.wait(timeout=10)
    assert receiver.bodies() == []
    assert receiver.refused  # attempts were made, and failed
    receiver.behaviour.fail_first = 0
    second = start_server()
    # An event in flight when the server was killed waits for its lease (sender.LEASE_MS) to run out.
    events = wait_for_events(receiver, 3 * len(calls), timeout_s=LEASE_MS / 1000 + 60)
    by_call: dict[str, list[str]] = {}
    for event in events:
        by_call.setdefault(event["payload"]["call_control_id"], []).append(event["event_type"])
    assert by_call == {f"v3:{call_id}": ["call.initiated", "call.answered", "call.hangup"] for call_id in calls}
    with second.client(TOKEN) as client:  # the official SDK reads what was delivered
        deadline = time.monotonic() + 10  # the sender records results in batches, after the receiver's reply
        while True:
            listed = client.webhook_deliveries.list(filter={"status": {"eq": "delivered"}}, page_size=250)
            if len(listed.data) >= 3 * len(calls) or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert len(listed.data) == 3 * len(calls)
        first_call = {delivery.webhook.event_type: delivery for delivery in listed.data
                      if delivery.webhook and delivery.webhook.payload
                      and delivery.webhook.payload["call_control_id"] == f"v3:{calls[0]}"}
        assert sorted(str(kind) for kind in first_call) == ["call.answered", "call.hangup", "call.initiated"]
        one = client.webhook_deliveries.retrieve(first_call["call.initiated"].id or "")
        assert one.data is not None
        assert one.data.status == "delivered"
        assert one.data.attempts
        assert one.data.attempts[0].status == "delivered"
        assert any(attempt.status == "failed" for attempt in one.data.attempts)


def test_a_server_stopped_mid_attempt_hands_its_events_back_at_once(start_server: StartServer,
                                                                     receiver: Receiver) -> None:
    receiver.behaviour.delay_s = 3600  # hung: the call's first event is being sent when the server stops
    first = start_server()
    with first.http(TOKEN) as http:
        trunk = prepared(http, receiver)
        patched = http.patch(f"/v2/credential_connections/{trunk}", json={"webhook_timeout_secs": 30})
        assert patched.status_code == 200, patched.text
        call(http, trunk)
    deadline = time.monotonic() + 15
    while receiver.arrived == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.arrived == 1
    assert first.stop() == 0  # SIGTERM, by its PID: the attempt is cut after the sender's grace
    receiver.behaviour.delay_s = 0
    stopped_at = time.monotonic()
    start_server()
    # Left leased, the events would wait for the lease to run out (sender.LEASE_MS).
    events = wait_for_events(receiver, 3, timeout_s=LEASE_MS / 1000 / 2)
    assert time.monotonic() - stopped_at < LEASE_MS / 1000 / 2
    assert [event["event_type"] for event in events] == ["call.initiated", "call.answered", "call.hangup"]


def test_two_servers_on_one_database_never_send_an_event_twice(start_server: StartServer, receiver: Receiver) -> None:
    servers = [start_server(), start_server()]
    with servers[0].http(TOKEN) as http, servers[1].http(TOKEN) as others:
        trunk = prepared(http, receiver)
        for number in range(40):
            call(http if number % 2 else others, trunk)
        wait_for_events(receiver, 120, timeout_s=60)
        time.sleep(2.0)  # time for any second sending to show
        listed = http.get("/v2/webhook_deliveries", params={"page[size]": "250"}).json()["data"]
    ids = [event["id"] for event in events_of(receiver)]
    assert len(ids) == len(set(ids)) == 120
    assert [len(delivery["attempts"]) for delivery in listed] == [1] * 120


def test_the_sender_process_is_started_again_when_it_dies(start_server: StartServer, receiver: Receiver) -> None:
    server = start_server()
    started = re.compile(r"webhook sender started \[(\d+)\]")
    deadline = time.monotonic() + 15
    while not started.search(server.log()) and time.monotonic() < deadline:
        time.sleep(0.1)
    (first,) = started.findall(server.log())
    os.kill(int(first), signal.SIGKILL)
    while len(started.findall(server.log())) < 2 and time.monotonic() < deadline + 15:
        time.sleep(0.1)
    assert "the webhook sender ended" in server.log()
    assert started.findall(server.log())[1] != first
    with server.http(TOKEN) as http:
        call(http, prepared(http, receiver))
    assert len(wait_for_events(receiver, 3, timeout_s=20)) == 3


def test_a_clock_moved_in_the_worker_sends_an_expired_calls_hangup_at_once(start_server: StartServer,
                                                                           receiver: Receiver) -> None:
    server = start_server()  # the sender is a process apart; the worker sweeps expiry on its own clock
    with server.http(TOKEN) as http:
        trunk = prepared(http, receiver)
        allowed = http.post(CALLS, json={"connection_id": trunk, "to": "+14155552671", "from": "+12025550100"})
        call_id = allowed.json()["data"]["id"]
        assert http.post("/_ovp/admin/clock", json={"advance_secs": 121}).status_code == 200  # past set-up
        events = wait_for_events(receiver, 2, timeout_s=20)
        http.delete("/_ovp/admin/clock")
    hangup = next(event for event in events if event["event_type"] == "call.hangup")
    assert (hangup["payload"]["call_control_id"], hangup["payload"]["hangup_cause"]) == (f"v3:{call_id}", "timeout")
