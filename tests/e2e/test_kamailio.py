"""A real switch enforces outbound voice profiles end to end: SIPp callers authenticate to Kamailio
(ovp's shipped configuration) as credential connections, Kamailio asks ovp about each call, relays
the allowed ones to a SIPp carrier and refuses the others with ovp's SIP code and reason, and ends
each call in ovp when its dialog ends. On SQLite and on PostgreSQL, in keys mode, as an operator
runs it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.servers import OvpServer, launch, run_ovp
from tests.e2e.switch import (
    CALLER_FROM_ADDRESS,
    HOST,
    PHONE,
    CallerRun,
    Carrier,
    Kamailio,
    Registration,
    call,
    free_udp_port,
    register,
    start_carrier,
    start_kamailio,
)

pytestmark = pytest.mark.e2e

US, UK = "+14155552671", "+442071234567"
DECK = "prefix,rate\n1,0.6000\n44,0.9000\n"
US_PER_SECOND = Decimal("0.01")  # 0.60 a minute
PASSWORD = "s3cret-passw0rd"
DECISION = re.compile(r'^ovp_call_authorizations_total\{code="(\w*)",decision="(\w+)"\} ([0-9.e+]+)$', re.M)


@dataclass
class Operator:
    """An operator's ovp (keys mode) with its key, seen through the API as the operator sees it."""

    ovp: OvpServer
    key: str

    def http(self) -> httpx.Client:
        return self.ovp.http(self.key)

    def profile(self, **fields: Any) -> str:
        with self.http() as client:
            response = client.post("/v2/outbound_voice_profiles", json={"name": "pbx", **fields})
        assert response.status_code == 200, response.text
        profile_id: str = response.json()["data"]["id"]
        return profile_id

    def connection(self, user_name: str, profile_id: str, password: str = PASSWORD, *, active: bool = True,
                   **outbound: Any) -> str:
        """A credential connection; `outbound` are its outbound settings beside its profile."""
        with self.http() as client:
            response = client.post("/v2/credential_connections", json={
                "connection_name": f"trunk {user_name}", "user_name": user_name, "password": password,
                "active": active, "outbound": {"outbound_voice_profile_id": profile_id, **outbound}})
        assert response.status_code == 201, response.text
        connection_id: str = response.json()["data"]["id"]
        return connection_id

    def ip_connection(self, profile_id: str, address: str, port: int, *, active: bool = True) -> str:
        """An IP connection using the profile, with one IP: `address` and `port`."""
        with self.http() as client:
            made = client.post("/v2/ip_connections", json={"connection_name": f"trunk at {address}:{port}",
                                                           "active": active,
                                                           "outbound": {"outbound_voice_profile_id": profile_id}})
            assert made.status_code == 201, made.text
            connection_id: str = made.json()["data"]["id"]
            ip = client.post("/v2/ips", json={"ip_address": address, "port": port, "connection_id": connection_id})
            assert ip.status_code == 201, ip.text
        return connection_id

    def channel_limit(self, limit: int | None) -> None:
        """Sets the account's channel limit."""
        with self.http() as client:
            response = client.patch("/ovp/account", json={"channel_limit": limit})
        assert response.status_code == 200, response.text

    def registration_status(self, connection_id: str) -> dict[str, Any]:
        """Telnyx's check_registration_status of the connection."""
        with self.http() as client:
            response = client.post(f"/v2/credential_connections/{connection_id}/actions/check_registration_status")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def usage(self, profile_id: str) -> dict[str, Any]:
        with self.http() as client:
            data: dict[str, Any] = client.get(f"/ovp/outbound_voice_profiles/{profile_id}/usage").json()["data"]
        return data

    def decisions(self) -> Counter[str]:
        """How many calls ovp allowed ("allowed") and rejected (by code), from its /metrics."""
        text = httpx.get(f"{self.ovp.origin}/metrics", timeout=10).text
        counted: Counter[str] = Counter()
        for code, decision, value in DECISION.findall(text):
            counted[code or decision] += int(float(value))
        return counted


@pytest.fixture
def operator_at(file_database_url: str, tmp_path: Path) -> Iterator[Callable[..., Operator]]:
    """Starts the operator's ovp with the flags a test gives, a key and a rate deck; stops it at the end."""
    started: list[OvpServer] = []

    def start(*flags: str, open_mode: bool = False) -> Operator:
        """`open_mode`: the emulator (its admin surface, faults included), a token of its own as the key."""
        assert run_ovp("db", "upgrade", "--database", file_database_url).returncode == 0
        if open_mode:
            key = "operator-token"
        else:
            made = run_ovp("keys", "create", "--account", "operator", "--rate-limit", "0", "--database",
                           file_database_url)
            assert made.returncode == 0, made.stderr
            key = made.stdout.strip()
        started.append(launch(tmp_path, file_database_url, auth="open" if open_mode else "keys", extra=flags))
        operator = Operator(started[-1], key)
        with operator.http() as client:
            loaded = client.put("/ovp/rates", content=DECK, headers={"Content-Type": "text/csv"})
        assert loaded.status_code == 200, loaded.text
        return operator

    yield start
    for server in started:
        server.stop()


@dataclass
class Switch:
    operator: Operator
    kamailio: Kamailio
    carrier: Carrier
    directory: Path

    def call(self, to: str, user_name: str, password: str = PASSWORD, **options: Any) -> CallerRun:
        return call(self.directory, self.kamailio, to=to, user_name=user_name, password=password, **options)

    def register(self, user_name: str, port: int, *, expires: int = 3600, password: str = PASSWORD,
                 user_agent: str = PHONE) -> Registration:
        return register(self.directory, self.kamailio, user_name=user_name, password=password, expires=expires,
                        port=port, user_agent=user_agent)


@pytest.fixture
def switch_for(operator_at: Callable[..., Operator], tmp_path: Path) -> Iterator[Callable[..., Switch]]:
    """ovp, a SIPp carrier and Kamailio between them; `defines` are Kamailio's optional -A defines."""
    running: list[Kamailio | Carrier] = []

    def start(*ovp_flags: str, defines: tuple[str, ...] = (), carrier_hangs_up_after_ms: int | None = None,
              open_mode: bool = False) -> Switch:
        operator = operator_at(*ovp_flags, open_mode=open_mode)
        carrier = start_carrier(tmp_path, carrier_hangs_up_after_ms)
        running.append(carrier)
        kamailio = start_kamailio(tmp_path, operator.ovp.origin, operator.key, carrier.uri, defines)
        running.append(kamailio)
        return Switch(operator, kamailio, carrier, tmp_path)

    yield start
    for process in reversed(running):
        process.stop()


def test_an_allowed_call_connects_and_is_booked_for_how_long_it_lasted(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for("--billing-increment", "1/1")
    profile = switch.operator.profile(whitelisted_destinations=["US"])
    switch.operator.connection("pbxtrunk1", profile)
    seen = switch.call(US, "pbxtrunk1", duration_ms=3000)
    assert (seen.returncode, len(seen.answered), seen.refused) == (0, 1, []), seen.output
    assert switch.carrier.calls("invite") == seen.answered
    assert switch.carrier.calls_by_then("bye", seen.answered) == seen.answered
    usage = switch.operator.usage(profile)
    assert usage["active_calls"] == 0
    # Billed by the second: rate x 3 s, the call's length to the second.
    assert Decimal(usage["spent"]) == 3 * US_PER_SECOND, switch.kamailio.log()


def test_a_call_the_carrier_hangs_up_is_booked_for_how_long_it_lasted(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for("--billing-increment", "1/1", carrier_hangs_up_after_ms=2000)
    profile = switch.operator.profile()
    switch.operator.connection("pbxtrunk1", profile)
    seen = switch.call(US, "pbxtrunk1", duration_ms=10000)  # the caller would talk for 10 s
    assert len(seen.answered) == 1, seen.output
    assert switch.carrier.calls_by_then("hungup", seen.answered) == seen.answered
    assert seen.far_end_hung_up == seen.answered, seen.output
    usage = switch.operator.usage(profile)
    assert usage["active_calls"] == 0
    assert Decimal(usage["spent"]) == 2 * US_PER_SECOND, switch.kamailio.log()


def test_a_call_from_an_ip_connection_s_address_goes_through_it_without_credentials(
    switch_for: Callable[..., Switch],
) -> None:
    switch = switch_for("--billing-increment", "1/1")
    profile = switch.operator.profile(whitelisted_destinations=["US"])
    port, inactive_port, unknown_port = free_udp_port(), free_udp_port(), free_udp_port()
    switch.operator.ip_connection(profile, HOST, port)
    other_profile = switch.operator.profile()
    switch.operator.ip_connection(other_profile, HOST, inactive_port, active=False)

    seen = switch.call(US, "", scenario=CALLER_FROM_ADDRESS, port=port, duration_ms=2000)
    assert (seen.returncode, len(seen.answered), seen.refused) == (0, 1, []), seen.output
    assert switch.carrier.calls_by_then("bye", seen.answered) == seen.answered
    usage = switch.operator.usage(profile)
    assert usage["active_calls"] == 0
    assert Decimal(usage["spent"]) == 2 * US_PER_SECOND, switch.kamailio.log()  # booked to the trunk's profile

    # The IP connection's profile still rules its calls: a country outside its whitelist is D13.
    refused = switch.call(UK, "", scenario=CALLER_FROM_ADDRESS, port=port)
    assert [(refusal.status, refusal.phrase.rsplit(" ", 1)[-1]) for refusal in refused.refused] == [(403, "D13")]
    # An inactive IP connection's call is refused by ovp; an address no IP connection has is challenged
    # for credentials, which this caller does not answer.
    inactive = switch.call(US, "", scenario=CALLER_FROM_ADDRESS, port=inactive_port)
    assert [(refusal.status, refusal.phrase) for refusal in inactive.refused] == [
        (404, "SIP connection is inactive D18")]
    unknown = switch.call(US, "", scenario=CALLER_FROM_ADDRESS, port=unknown_port)
    assert [refusal.status for refusal in unknown.refused] == [407]
    assert switch.carrier.calls("invite") == seen.answered  # only the allowed call reached the carrier
    assert switch.operator.usage(other_profile)["active_calls"] == 0


def test_a_country_outside_the_whitelist_is_refused_with_d13_and_never_reaches_the_carrier(
    switch_for: Callable[..., Switch],
) -> None:
    switch = switch_for()
    profile = switch.operator.profile(whitelisted_destinations=["US"])
    switch.operator.connection("pbxtrunk1", profile)
    seen = switch.call(UK, "pbxtrunk1")
    assert seen.answered == []
    reason = f"Dialed number {UK} is not included in whitelisted countries: US D13"
    assert [(refusal.status, refusal.phrase, refusal.reason_header) for refusal in seen.refused] == [
        (403, reason, f'SIP;cause=403;text="{reason}"')]
    assert switch.carrier.calls("invite") == []
    assert switch.operator.decisions()["D13"] == 1


def test_each_new_refusal_reaches_the_caller_in_telnyx_words(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for()
    profile = switch.operator.profile(whitelisted_destinations=["US"])
    switch.operator.connection("inactive1", profile, active=False)
    switch.operator.connection("pbxtrunk1", profile, channel_limit=1)
    switch.operator.connection("pbxtrunk2", profile, ani_override="pbx")  # still no +E.164 caller id
    expected = {
        "inactive1": (404, "SIP connection is inactive D18"),
        "pbxtrunk2": (403, "Caller Origination Number is Invalid D35"),
    }
    for user_name, answer in expected.items():
        seen = switch.call(US, user_name)
        assert [(refusal.status, refusal.phrase) for refusal in seen.refused] == [answer], seen.output
    invalid = switch.call("+1415555", "pbxtrunk1")
    assert [(refusal.status, refusal.phrase) for refusal in invalid.refused] == [
        (403, "Destination Number +1415555 is invalid D11")]
    two = switch.call(US, "pbxtrunk1", calls=2, rate=50, duration_ms=2000)
    assert len(two.answered) == 1, two.output
    assert [(refusal.status, refusal.phrase) for refusal in two.refused] == [
        (403, "Connection channel limit exceeded D3")]
    switch.operator.channel_limit(0)
    account = switch.call(US, "pbxtrunk1")
    assert [(refusal.status, refusal.phrase) for refusal in account.refused] == [
        (403, "User channel limit exceeded D1")]
    assert switch.carrier.calls("invite") == two.answered  # only the one allowed call reached the carrier


def test_the_carrier_gets_the_numbers_ovp_made_of_the_call(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for()
    profile = switch.operator.profile(whitelisted_destinations=["US"])
    switch.operator.connection("pbxtrunk1", profile, ani_override="+13125550100", localization="US")
    seen = switch.call("4155552671", "pbxtrunk1")  # dialled as in the US, from the caller's own number
    assert (len(seen.answered), seen.refused) == (1, []), seen.output
    assert switch.carrier.numbers(seen.answered[0]) == ("+13125550100", US)
    assert switch.carrier.calls_by_then("bye", seen.answered) == seen.answered  # the From restored for the BYE


def test_with_a_limit_of_three_concurrent_calls_three_of_five_connect(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for()
    profile = switch.operator.profile(concurrent_call_limit=3)
    switch.operator.connection("pbxtrunk1", profile)
    seen = switch.call(US, "pbxtrunk1", calls=5, rate=50, duration_ms=3000)
    assert len(seen.answered) == 3, seen.output
    assert [(refusal.status, refusal.phrase) for refusal in seen.refused] == [
        (403, "OB profile channel limit exceeded D2")] * 2
    assert sorted(switch.carrier.calls("invite")) == sorted(seen.answered)
    usage = switch.operator.usage(profile)
    assert usage["active_calls"] == 0
    assert Decimal(usage["spent"]) == 3 * Decimal("0.60")  # three calls of one billed minute


def test_the_daily_spend_limit_refuses_the_call_that_would_pass_it(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for()
    profile = switch.operator.profile(daily_spend_limit="1.00", daily_spend_limit_enabled=True)
    switch.operator.connection("pbxtrunk1", profile)
    first = switch.call(US, "pbxtrunk1")  # books one minute: 0.60
    assert len(first.answered) == 1, first.output
    second = switch.call(US, "pbxtrunk1")  # its first minute would make 1.20
    assert second.answered == []
    assert second.codes == ["OVP5"]
    assert [refusal.status for refusal in second.refused] == [403]
    assert Decimal(switch.operator.usage(profile)["spent"]) == Decimal("0.60")
    assert len(switch.carrier.calls("invite")) == 1


def test_a_wrong_password_gets_no_call_and_no_authorization(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for()
    profile = switch.operator.profile()
    switch.operator.connection("pbxtrunk1", profile)
    for user_name, password in (("pbxtrunk1", "not-the-passw0rd"), ("nosuchuser", PASSWORD)):
        seen = switch.call(US, user_name, password)
        assert seen.answered == []
        assert [(refusal.status, refusal.phrase) for refusal in seen.refused] == [(403, "Forbidden")]
    assert switch.carrier.calls("invite") == []
    assert sum(switch.operator.decisions().values()) == 0  # ovp was never asked
    assert switch.operator.usage(profile)["active_calls"] == 0


def test_a_call_that_outlives_what_ovp_allowed_is_hung_up_and_booked_to_then(
    switch_for: Callable[..., Switch],
) -> None:
    switch = switch_for("--max-call-duration", "3", "--billing-increment", "1/1")
    profile = switch.operator.profile()
    switch.operator.connection("pbxtrunk1", profile)
    seen = switch.call(US, "pbxtrunk1", duration_ms=8000)  # the caller would talk for 8 s
    assert len(seen.answered) == 1
    assert switch.carrier.calls_by_then("bye", seen.answered) == seen.answered  # the proxy hung up on the carrier
    assert seen.far_end_hung_up == seen.answered, seen.output  # and on the caller
    usage = switch.operator.usage(profile)
    assert usage["active_calls"] == 0
    # Hung up within what ovp allowed (3 s), never after: the dialog's timer ticks in whole seconds
    # and is set a second short, so it fires 1 to 3 s after the answer, booked rounded to the second.
    assert Decimal(usage["spent"]) in {1 * US_PER_SECOND, 2 * US_PER_SECOND, 3 * US_PER_SECOND}, switch.kamailio.log()


def test_a_phone_registers_through_the_switch_and_the_connection_reads_registered(
    switch_for: Callable[..., Switch],
) -> None:
    switch = switch_for()
    connection_id = switch.operator.connection("deskphone1", switch.operator.profile())
    assert switch.operator.registration_status(connection_id)["status"] == "Not Registered"
    port = free_udp_port()
    seen = switch.register("deskphone1", port)
    assert (seen.registered, seen.refused) == (True, None), seen.output
    # ovp was told before the phone had its 200: no wait. SIPp's contact is <sip:deskphone1@127.0.0.1:PORT>,
    # from where the REGISTER came.
    status = switch.operator.registration_status(connection_id)
    assert {key: status[key] for key in ("status", "sip_username", "ip_address", "port", "transport",
                                         "user_agent")} == {
        "status": "Registered", "sip_username": "deskphone1", "ip_address": HOST, "port": port, "transport": "UDP",
        "user_agent": "ovp SIPp phone"}, switch.kamailio.log()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", status["last_registration"])
    assert "POST /ovp/sip_registrations" in switch.operator.ovp.log()  # the access log shows what the switch told

    # The phone unregisters (expires 0), from the contact it bound.
    gone = switch.register("deskphone1", port, expires=0)
    assert (gone.registered, gone.refused) == (True, None), gone.output
    assert switch.operator.registration_status(connection_id)["status"] == "Not Registered", switch.kamailio.log()


def test_a_long_user_agent_with_a_tab_is_kept_whole_characters_at_most_255_bytes(
    switch_for: Callable[..., Switch],
) -> None:
    switch = switch_for()
    connection_id = switch.operator.connection("deskphone1", switch.operator.profile())
    phone = "Desk\tphone: " + "é" * 200  # 412 bytes, 255 of which end inside an é
    seen = switch.register("deskphone1", free_udp_port(), user_agent=phone)
    assert (seen.registered, seen.refused) == (True, None), seen.output
    shown = switch.operator.registration_status(connection_id)
    assert shown["status"] == "Registered", switch.kamailio.log()
    assert shown["user_agent"] == phone.encode()[:254].decode(), shown  # the tab kept, the last whole é


def test_a_wrong_password_registers_nothing_and_ovp_is_not_told(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for()
    connection_id = switch.operator.connection("deskphone1", switch.operator.profile())
    for user_name, password in (("deskphone1", "not-the-passw0rd"), ("nosuchuser", PASSWORD)):
        seen = switch.register(user_name, free_udp_port(), password=password)
        assert (seen.registered, seen.refused) == (False, (403, "Forbidden")), seen.output
    assert switch.operator.registration_status(connection_id)["status"] == "Not Registered"
    assert "/ovp/sip_registrations" not in switch.operator.ovp.log()  # never told (the access log)
    assert "registration of" not in switch.kamailio.log()  # nor refused anything


def test_with_ovp_stopped_the_switch_fails_closed_by_default(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for()
    switch.operator.connection("pbxtrunk1", switch.operator.profile())
    assert len(switch.call(US, "pbxtrunk1").answered) == 1
    switch.operator.ovp.stop()
    seen = switch.call(US, "pbxtrunk1")
    assert [(refusal.status, refusal.phrase) for refusal in seen.refused] == [(503, "Call authorization unavailable")]
    assert len(switch.carrier.calls("invite")) == 1


def test_with_ovp_stopped_the_switch_fails_open_when_told_to(switch_for: Callable[..., Switch]) -> None:
    switch = switch_for(defines=("OVP_FAIL_OPEN=1",))
    profile = switch.operator.profile()
    switch.operator.connection("pbxtrunk1", profile)
    switch.operator.connection("pbxtrunk2", profile)
    assert len(switch.call(US, "pbxtrunk1").answered) == 1  # while ovp serves
    switch.operator.ovp.stop()
    seen = switch.call(US, "pbxtrunk1")
    assert (len(seen.answered), seen.refused) == (1, []), seen.output
    assert len(switch.carrier.calls("invite")) == 2
    # A caller the proxy never authenticated while ovp served cannot be now: still refused.
    stranger = switch.call(US, "pbxtrunk2")
    assert [(refusal.status, refusal.phrase) for refusal in stranger.refused] == [
        (503, "Call authorization unavailable")]
    assert "goes through unbooked" in switch.kamailio.log()


@pytest.mark.alone
def test_fifty_calls_a_second_for_twenty_seconds_are_each_decided_and_booked_as_sipp_saw(
    switch_for: Callable[..., Switch],
) -> None:
    """1000 calls of 1 s at 50 a second, against a limit of 30 concurrent calls: every call is
    answered or refused with D2, and ovp's counters agree with SIPp's."""
    switch = switch_for()
    profile = switch.operator.profile(concurrent_call_limit=30)
    switch.operator.connection("pbxtrunk1", profile)
    seen = switch.call(US, "pbxtrunk1", calls=1000, rate=50, duration_ms=1000, timeout_s=90)
    assert len(seen.answered) + len(seen.refused) == 1000, seen.output
    assert set(seen.codes) <= {"D2"}, Counter(seen.codes)
    assert {refusal.status for refusal in seen.refused} <= {403}
    decided = switch.operator.decisions()
    assert (decided["allowed"], decided["D2"]) == (len(seen.answered), len(seen.refused))
    assert sorted(switch.carrier.calls_by_then("bye", seen.answered)) == sorted(seen.answered)
    usage = switch.operator.usage(profile)
    assert usage["active_calls"] == 0
    assert Decimal(usage["spent"]) == len(seen.answered) * Decimal("0.60")  # each a billed minute


def test_an_invite_sent_again_while_ovp_decides_is_authorized_once(switch_for: Callable[..., Switch]) -> None:
    """The caller sends its INVITE again after half a second without an answer: ovp, slowed by an
    armed fault, takes longer than that to authorize the call, and the switch must not ask it twice
    (a second authorization would hold a slot for a call that never rings)."""
    switch = switch_for(open_mode=True)
    with switch.operator.http() as client:
        armed = client.post("/_ovp/admin/faults", json={
            "method": "POST", "path": "/ovp/call_authorizations", "delay_ms": 1500, "times": 1})
    assert armed.status_code == 200, armed.text
    switch.operator.connection("pbxtrunk1", switch.operator.profile())
    seen = switch.call(US, "pbxtrunk1")
    assert (len(seen.answered), seen.refused) == (1, []), seen.output
    with switch.operator.http() as client:
        records = client.get("/ovp/call_authorizations").json()["data"]
    assert [record["status"] for record in records] == ["ended"], (records, switch.kamailio.log())
