"""Table-driven tests of the call rules, and of which reason wins when several apply."""

from __future__ import annotations

from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any

import pytest

from ovp.domain.calls.billing import BillingIncrement
from ovp.domain.calls.numbers import parse_destination
from ovp.domain.calls.policy import (
    RULE_ORDER,
    Allowed,
    CallRequest,
    Connection,
    RateDeck,
    Recording,
    Rejected,
    Usage,
    decide,
    needs_usage,
    reservation,
    window_is_open,
    window_opened_at,
)
from ovp.domain.profiles.profile import ProfileDocument, apply_changes, new_profile, parse_changes

NOON = time(12, 0)
US_NUMBER = "+14155552671"
BR_NUMBER = "+5511912345678"
RATES = RateDeck({"1": Decimal("0.010"), "1415": Decimal("0.005"), "55": Decimal("0.080"), "5511": Decimal("0.050")})


def profile(**fields: Any) -> ProfileDocument:
    now = "2026-01-01T00:00:00.000Z"
    return apply_changes(new_profile(1, now), parse_changes({"name": "office", **fields}), now)


def ask(
    subject: ProfileDocument | None, dialled: str = US_NUMBER, *, caller: str = "+12025550100",
    now: time = NOON, usage: Usage | None = None, connection: Connection | None = None,
    account_limit: int | None = None,
) -> Allowed | Rejected:
    return decide(CallRequest(subject, dialled, caller, now, usage or Usage(), connection=connection,
                              account_channel_limit=account_limit), RATES)


@pytest.mark.parametrize(
    ("number", "country"),
    [(US_NUMBER, "US"), (BR_NUMBER, "BR"), ("+442071838750", "GB"), ("+61291234567", "AU")],
)
def test_the_country_comes_from_the_number(number: str, country: str) -> None:
    destination = parse_destination(number)
    assert destination is not None
    assert destination.country == country


@pytest.mark.parametrize("number", ["14155552671", "+1415555", "+999123", "", "+1 415 555 2671x", "tel:+14155552671"])
def test_numbers_that_are_not_valid_e164_have_no_destination(number: str) -> None:
    assert parse_destination(number) is None


@pytest.mark.parametrize(
    ("digits", "prefix", "rate"),
    [("14155552671", "1415", "0.005"), ("12125550100", "1", "0.010"), ("5511912345678", "5511", "0.050"),
     ("5521912345678", "55", "0.080")],
)
def test_the_longest_prefix_gives_the_rate(digits: str, prefix: str, rate: str) -> None:
    match = RATES.match(digits)
    assert match is not None
    assert (match.prefix, match.per_minute) == (prefix, Decimal(rate))


def test_no_prefix_no_rate() -> None:
    assert RATES.match("442071838750") is None


@pytest.mark.parametrize(
    ("start", "end", "now", "open_"),
    [
        (None, None, NOON, True),
        ("08:00:00", "20:00:00", NOON, True),
        ("08:00:00", "20:00:00", time(20, 0), False),
        ("08:00:00", "20:00:00", time(7, 59, 59), False),
        ("22:00:00", "06:00:00", time(23, 0), True),  # wraps midnight
        ("22:00:00", "06:00:00", time(3, 0), True),
        ("22:00:00", "06:00:00", NOON, False),
        ("08:00:00", None, time(7, 0), False),
        (None, "08:00:00", time(7, 0), True),
        ("09:00:00", "09:00:00", time(3, 0), True),
    ],
)
def test_calling_windows(start: str | None, end: str | None, now: time, open_: bool) -> None:
    assert window_is_open(start, end, now) is open_


@pytest.mark.parametrize(
    ("subject", "dialled", "usage", "now", "code", "sip"),
    [
        (None, US_NUMBER, Usage(), NOON, "D38", 403),
        (profile(enabled=False), US_NUMBER, Usage(), NOON, "D15", 403),
        (profile(), "+1415555", Usage(), NOON, "D11", 403),
        (profile(), BR_NUMBER, Usage(), NOON, "D13", 403),
        (profile(whitelisted_destinations=["GB"]), "+442071838750", Usage(), NOON, "OVP2", 403),
        (profile(max_destination_rate=0.004), US_NUMBER, Usage(), NOON, "D24", 403),
        (profile(calling_window={"start_time": "13:00"}), US_NUMBER, Usage(), NOON, "OVP3", 403),
        (profile(calling_window={"calls_per_cld": 2}), US_NUMBER, Usage(calls_to_number=2), NOON, "OVP4", 403),
        (profile(daily_spend_limit="5.00", daily_spend_limit_enabled=True), US_NUMBER,
         Usage(spend_today=Decimal("5.00")), NOON, "OVP5", 403),
        (profile(concurrent_call_limit=3), US_NUMBER, Usage(active_calls=3), NOON, "D2", 403),
    ],
)
def test_each_rule_refuses_with_its_code(
    subject: ProfileDocument | None, dialled: str, usage: Usage, now: time, code: str, sip: int
) -> None:
    decision = ask(subject, dialled, usage=usage, now=now)
    assert isinstance(decision, Rejected)
    assert (decision.code, decision.sip_status) == (code, sip)


@pytest.mark.parametrize(
    ("connection", "caller", "usage", "account_limit", "code", "sip", "reason"),
    [
        (Connection(active=False), "+12025550100", Usage(), None, "D18", 404, "SIP connection is inactive"),
        (Connection(), "pbxtrunk1", Usage(), None, "D35", 403, "Caller Origination Number is Invalid"),
        (Connection(), "", Usage(), None, "D35", 403, "Caller Origination Number is Invalid"),
        (Connection(), "+12025550100", Usage(account_active_calls=4), 4, "D1", 403, "User channel limit exceeded"),
        (Connection(channel_limit=2), "+12025550100", Usage(connection_active_calls=2), None, "D3", 403,
         "Connection channel limit exceeded"),
    ],
)
def test_the_connection_and_the_account_refuse_in_telnyx_words(
    connection: Connection, caller: str, usage: Usage, account_limit: int | None, code: str, sip: int, reason: str
) -> None:
    decision = ask(profile(), caller=caller, usage=usage, connection=connection, account_limit=account_limit)
    assert decision == Rejected(sip, code, reason)


def test_a_channel_limit_applies_only_once_reached() -> None:
    below = Usage(account_active_calls=3, connection_active_calls=1)
    assert isinstance(ask(profile(), usage=below, connection=Connection(channel_limit=2), account_limit=4), Allowed)


def test_d11_names_the_number_as_telnyx_does() -> None:
    assert ask(profile(), "+1415555") == Rejected(403, "D11", "Destination Number +1415555 is invalid")


def test_the_telnyx_wording_of_d13_names_the_number_and_the_countries() -> None:
    decision = ask(profile(whitelisted_destinations=["US", "CA"]), BR_NUMBER)
    assert isinstance(decision, Rejected)
    assert decision.reason == f"Dialed number {BR_NUMBER} is not included in whitelisted countries: US, CA"


@pytest.mark.parametrize(
    ("fields", "usage", "allowed"),
    [
        ({"max_destination_rate": 0.005}, Usage(), True),  # equal to the ceiling is allowed
        ({"calling_window": {"calls_per_cld": 2}}, Usage(calls_to_number=1), True),
        ({"daily_spend_limit": "5.00", "daily_spend_limit_enabled": True}, Usage(spend_today=Decimal("4.99")), True),
        ({"daily_spend_limit": "5.00", "daily_spend_limit_enabled": False}, Usage(spend_today=Decimal("9")), True),
        ({"concurrent_call_limit": 3}, Usage(active_calls=2), True),
        ({"calling_window": {"calls_per_cld": 0}}, Usage(), False),
    ],
)
def test_limits_apply_only_once_reached(fields: dict[str, Any], usage: Usage, allowed: bool) -> None:
    assert isinstance(ask(profile(**fields), usage=usage), Allowed) is allowed


def test_when_every_rule_applies_they_answer_in_the_documented_order() -> None:
    everything_wrong: dict[str, Any] = {
        "whitelisted_destinations": ["GB"],
        "max_destination_rate": 0,
        "calling_window": {"start_time": "13:00", "calls_per_cld": 0},
        "daily_spend_limit": "0.00",
        "daily_spend_limit_enabled": True,
        "concurrent_call_limit": 1,
    }
    busy = Usage(active_calls=5, calls_to_number=5, spend_today=Decimal(1), account_active_calls=5,
                 connection_active_calls=5)
    full, inactive = Connection(channel_limit=1), Connection(active=False, channel_limit=1)
    answers = [
        ask(None, "+1415555", caller="x", usage=busy, connection=inactive, account_limit=1),
        ask(None, "+1415555", caller="x", usage=busy, connection=full, account_limit=1),
        ask(profile(**everything_wrong, enabled=False), "+1415555", caller="x", usage=busy),
        ask(profile(**everything_wrong), "+1415555", caller="x", usage=busy),
        ask(profile(**everything_wrong), "+1415555", usage=busy),
        ask(profile(**everything_wrong), US_NUMBER, usage=busy),
        ask(profile(**{**everything_wrong, "whitelisted_destinations": ["GB"]}), "+442071838750", usage=busy),
    ]
    relaxed: list[dict[str, Any]] = [
        {**everything_wrong, "whitelisted_destinations": ["US"]},
        {**everything_wrong, "whitelisted_destinations": ["US"], "max_destination_rate": None},
        {**everything_wrong, "whitelisted_destinations": ["US"], "max_destination_rate": None,
         "calling_window": {"calls_per_cld": 0}},
        {**everything_wrong, "whitelisted_destinations": ["US"], "max_destination_rate": None,
         "calling_window": {}},
        {**everything_wrong, "whitelisted_destinations": ["US"], "max_destination_rate": None,
         "calling_window": {}, "daily_spend_limit_enabled": False},
    ]
    answers += [ask(profile(**fields), usage=busy, connection=full, account_limit=1) for fields in relaxed]
    unlimited = relaxed[-1]
    answers += [ask(profile(**unlimited), usage=busy, connection=full),
                ask(profile(**unlimited), usage=busy, connection=Connection())]
    codes = [answer.code for answer in answers if isinstance(answer, Rejected)]
    assert codes == ["D18", "D38", "D15", "D35", "D11", "D13", "OVP2", "D24", "OVP3", "OVP4", "OVP5", "D1", "D3",
                     "D2"]
    assert tuple(codes) == RULE_ORDER


@pytest.mark.parametrize(
    ("recording", "caller", "record"),
    [
        ({"call_recording_type": "none"}, "+12025550100", False),
        ({"call_recording_type": "all"}, "+12025550100", True),
        ({"call_recording_type": "by_caller_phone_number", "call_recording_caller_phone_numbers": ["+12025550100"]},
         "+12025550100", True),
        ({"call_recording_type": "by_caller_phone_number", "call_recording_caller_phone_numbers": ["+12025550100"]},
         "+12025550199", False),
    ],
)
def test_an_allowed_call_carries_its_recording_instruction(
    recording: dict[str, Any], caller: str, record: bool
) -> None:
    decision = ask(profile(call_recording={**recording, "call_recording_format": "mp3",
                                           "call_recording_channels": "dual"}), caller=caller)
    assert isinstance(decision, Allowed)
    assert decision.recording == Recording(record, "mp3", "dual")
    assert (decision.country, decision.prefix, decision.rate) == ("US", "1415", Decimal("0.005"))


SPEND_LIMITED = {"daily_spend_limit": "5.00", "daily_spend_limit_enabled": True}


@pytest.mark.parametrize(
    ("spent", "billing", "allowed"),
    [
        ("4.995", BillingIncrement(60, 60), True),  # its first minute (0.005) just fits
        ("4.996", BillingIncrement(60, 60), False),  # its first minute would pass the limit
        ("4.996", BillingIncrement(1, 1), True),  # billed by the second, it holds far less
        ("5.00", BillingIncrement(1, 1), False),  # reached
    ],
)
def test_a_call_must_fit_its_first_increment_in_the_budget(spent: str, billing: BillingIncrement,
                                                           allowed: bool) -> None:
    request = CallRequest(profile(**SPEND_LIMITED), US_NUMBER, "+12025550100", NOON,
                          Usage(spend_today=Decimal(spent)), billing)
    assert isinstance(decide(request, RATES), Allowed) is allowed


def test_reservation_is_the_first_increment_at_the_rate() -> None:
    assert reservation(Decimal("0.06"), BillingIncrement(60, 60)) == Decimal("0.06")
    assert reservation(Decimal("0.06"), BillingIncrement(30, 6)) == Decimal("0.03")


UTC_NOON = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "now", "opened"),
    [
        (None, UTC_NOON, datetime(2026, 3, 4, tzinfo=UTC)),  # no start: the UTC day
        ("08:00:00", UTC_NOON, datetime(2026, 3, 4, 8, tzinfo=UTC)),
        ("22:00:00", datetime(2026, 3, 4, 3, 0, tzinfo=UTC), datetime(2026, 3, 3, 22, tzinfo=UTC)),  # wrapped
        ("22:00:00", datetime(2026, 3, 4, 23, 0, tzinfo=UTC), datetime(2026, 3, 4, 22, tzinfo=UTC)),
        ("12:00:00", UTC_NOON, UTC_NOON),
    ],
)
def test_calls_per_number_count_from_when_the_window_opened(start: str | None, now: datetime,
                                                            opened: datetime) -> None:
    assert window_opened_at(start, now) == opened


@pytest.mark.parametrize(
    ("fields", "needed"),
    [
        ({}, False),
        ({"concurrent_call_limit": 5}, True),
        ({"calling_window": {"calls_per_cld": 5}}, True),
        ({"daily_spend_limit": "5.00"}, False),  # set but not enabled
        (SPEND_LIMITED, True),
    ],
)
def test_counters_are_read_only_when_a_limit_needs_them(fields: dict[str, Any], needed: bool) -> None:
    assert needs_usage(profile(**fields)) is needed
