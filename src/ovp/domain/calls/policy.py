"""Whether a profile allows an outbound call: pure rules over plain data, no I/O.

The rules run in a fixed order, and the first that refuses the call gives the answer, so that
the reason a switch hears is the same whatever else is also wrong. Telnyx publishes no order; this
one follows a call through its network: the connection it comes in on, that connection's profile,
the numbers, the destination's price, the time, and last the counters, from the widest limit to
the narrowest (the most transient last):

1.  D18 (404) the connection is not active                 (the connection and its profile first)
2.  D38 the connection has no outbound profile
3.  D15 the profile is disabled
4.  D35 the caller id (after any override) is not +E.164   (then the numbers)
5.  D11 the dialled number is not a valid number
6.  D13 the number's country is not whitelisted
7.  OVP2 no rate matches the number                        (then the price)
8.  D24 the rate is above max_destination_rate
9.  OVP3 the calling window is closed                      (then the time of the call)
10. OVP4 calls_per_cld: this number was called often enough (then the counters)
11. OVP5 the daily spend limit is reached, or this call's first billing increment would pass it
12. D1  the account's channel limit is reached
13. D3  the connection's outbound channel limit is reached
14. D2  the profile's concurrent call limit is reached

The D-codes and their wording are Telnyx's; the OVP codes are ovp's own, for the limits Telnyx
enforces without a published code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Protocol

from ovp.domain.calls.billing import BillingIncrement
from ovp.domain.calls.numbers import is_valid_caller_id, parse_destination
from ovp.domain.profiles.profile import CallRecordingDocument, ProfileDocument


@dataclass(frozen=True)
class Rate:
    prefix: str  # E.164 digits, without the "+"
    per_minute: Decimal  # USD


class RateLookup(Protocol):
    def match(self, digits: str) -> Rate | None:
        """The rate of the longest prefix of `digits` that has one."""


class RateDeck:
    """Per-minute rates by destination prefix; a number takes the rate of its longest prefix."""

    def __init__(self, rates: Mapping[str, Decimal]) -> None:
        self._rates = dict(rates)
        self._longest = max((len(prefix) for prefix in self._rates), default=0)

    def match(self, digits: str) -> Rate | None:
        for length in range(min(len(digits), self._longest), 0, -1):
            rate = self._rates.get(digits[:length])
            if rate is not None:
                return Rate(digits[:length], rate)
        return None


@dataclass(frozen=True)
class Usage:
    """The counters the decision needs, as the store holds them when the call is asked for."""

    active_calls: int = 0  # the profile's
    calls_to_number: int = 0  # calls to this dialled number in the current calling window
    # USD booked against the profile for this UTC day, plus what its active calls have reserved
    spend_today: Decimal = Decimal(0)
    account_active_calls: int = 0  # counted only when the account has a channel limit
    connection_active_calls: int = 0  # counted only when the connection has one


@dataclass(frozen=True)
class Connection:
    """What the rules need of the connection a call comes in on."""

    active: bool = True
    channel_limit: int | None = None


@dataclass(frozen=True)
class CallRequest:
    profile: ProfileDocument | None
    dialled: str  # E.164 when it is a valid number (see ovp.domain.calls.numbers.Outbound.to)
    caller: str  # the caller id the switch presents, after any override
    now: time  # UTC time of day
    usage: Usage
    billing: BillingIncrement = field(default_factory=BillingIncrement)
    connection: Connection | None = None  # None: asked for by profile
    account_channel_limit: int | None = None


@dataclass(frozen=True)
class Recording:
    record: bool
    format: str
    channels: str


@dataclass(frozen=True)
class Allowed:
    country: str
    prefix: str
    rate: Decimal
    recording: Recording


@dataclass(frozen=True)
class Rejected:
    sip_status: int
    code: str
    reason: str


Decision = Allowed | Rejected


def _forbidden(code: str, reason: str) -> Rejected:
    return Rejected(403, code, reason)


def window_is_open(start: str | None, end: str | None, now: time) -> bool:
    """A window may wrap midnight (start later than end). An unset bound is the day's start or end;
    equal bounds, like no bounds, leave the whole day open."""
    opens = time.fromisoformat(start) if start else time.min
    if end is None:
        return now >= opens
    closes = time.fromisoformat(end)
    if opens == closes:
        return True
    if opens < closes:
        return opens <= now < closes
    return now >= opens or now < closes


def recording_of(settings: CallRecordingDocument, caller: str) -> Recording:
    """How a call from `caller` is recorded, should it be allowed."""
    kind = settings["call_recording_type"]
    record = kind == "all" or (
        kind == "by_caller_phone_number" and caller in settings["call_recording_caller_phone_numbers"]
    )
    return Recording(record, settings["call_recording_format"], settings["call_recording_channels"])


def window_opened_at(start: str | None, now: datetime) -> datetime:
    """When the calling window that holds `now` (UTC) opened: the day's start when the window has
    no start time; yesterday's start for a window that wrapped midnight. calls_per_cld counts
    the calls made since then."""
    opens = time.fromisoformat(start) if start else time.min
    opened = datetime.combine(now.astimezone(UTC).date(), opens, UTC)
    return opened if opened <= now else opened - timedelta(days=1)


def reservation(rate: Decimal, billing: BillingIncrement) -> Decimal:
    """What an allowed call holds of the day's budget until it ends: its first increment."""
    return rate * billing.initial / 60


def needs_usage(profile: ProfileDocument) -> bool:
    """Whether any counter rule applies, so that a profile without limits costs no count."""
    return (
        profile["concurrent_call_limit"] is not None
        or profile["calling_window"].get("calls_per_cld") is not None
        or (profile["daily_spend_limit_enabled"] and profile["daily_spend_limit"] is not None)
    )


def _time_and_counters(request: CallRequest, profile: ProfileDocument, rate: Decimal) -> Rejected | None:
    usage = request.usage
    window = profile["calling_window"]
    if not window_is_open(window.get("start_time"), window.get("end_time"), request.now):
        return _forbidden("OVP3", "Outside the profile's calling window")
    calls_per_cld = window.get("calls_per_cld")
    if calls_per_cld is not None and usage.calls_to_number >= calls_per_cld:
        return _forbidden("OVP4", "Calls per dialled number limit reached")
    limit = profile["daily_spend_limit"]
    if profile["daily_spend_limit_enabled"] and limit is not None:
        budget = Decimal(limit)
        # Reached, or this call's first increment would go beyond it.
        if usage.spend_today >= budget or usage.spend_today + reservation(rate, request.billing) > budget:
            return _forbidden("OVP5", "Daily spend limit reached")
    account_limit = request.account_channel_limit
    if account_limit is not None and usage.account_active_calls >= account_limit:
        return _forbidden("D1", "User channel limit exceeded")
    connection_limit = request.connection.channel_limit if request.connection is not None else None
    if connection_limit is not None and usage.connection_active_calls >= connection_limit:
        return _forbidden("D3", "Connection channel limit exceeded")
    concurrent = profile["concurrent_call_limit"]
    if concurrent is not None and usage.active_calls >= concurrent:
        return _forbidden("D2", "OB profile channel limit exceeded")
    return None


def refused_before_rating(profile: ProfileDocument | None, dialled: str, caller: str,
                          connection: Connection | None = None) -> Rejected | None:
    """The refusal of the rules that need neither a rate nor a counter, which come first."""
    if connection is not None and not connection.active:
        return Rejected(404, "D18", "SIP connection is inactive")
    if profile is None:
        return _forbidden("D38", "Connection has no Outbound Profile assigned")
    if not profile["enabled"]:
        return _forbidden("D15", "Outbound Profile is disabled")
    if not is_valid_caller_id(caller):
        return _forbidden("D35", "Caller Origination Number is Invalid")
    destination = parse_destination(dialled)
    if destination is None:
        return _forbidden("D11", f"Destination Number {dialled} is invalid")
    whitelist = profile["whitelisted_destinations"]
    if destination.country not in whitelist:
        return _forbidden(
            "D13",
            f"Dialed number {destination.number} is not included in whitelisted countries: {', '.join(whitelist)}",
        )
    return None


def decide(request: CallRequest, rates: RateLookup) -> Decision:
    profile, destination = request.profile, parse_destination(request.dialled)
    refused = refused_before_rating(profile, request.dialled, request.caller, request.connection)
    if refused is not None:
        return refused
    # refused_before_rating refuses a call without either
    assert profile is not None
    assert destination is not None
    rate = rates.match(destination.digits)
    if rate is None:
        return _forbidden("OVP2", f"No rate for dialed number {destination.number}")
    ceiling = profile["max_destination_rate"]
    if ceiling is not None and rate.per_minute > Decimal(str(ceiling)):
        return _forbidden("D24", "Maximum destination rate limit exceeded")
    refusal = _time_and_counters(request, profile, rate.per_minute)
    if refusal is not None:
        return refusal
    recording = recording_of(profile["call_recording"], request.caller)
    return Allowed(destination.country, rate.prefix, rate.per_minute, recording)


# The order above, as data: the first code in it that applies is the answer.
RULE_ORDER = ("D18", "D38", "D15", "D35", "D11", "D13", "OVP2", "D24", "OVP3", "OVP4", "OVP5", "D1", "D3", "D2")
