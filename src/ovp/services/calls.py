"""Authorizing a call and ending it. Each runs inside the write transaction its caller opened.

On PostgreSQL the profile's row is locked for the rest of the transaction (SELECT ... FOR UPDATE)
before any counter is read, so that the authorizations of one profile, on any server, run one
after another: two can never both take the last slot or the last of the day's budget. SQLite
runs one write transaction at a time anyway.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, cast

import orjson
from pydantic import BaseModel, ConfigDict, Field

from ovp.domain.calls import policy as call_policy
from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.billing import BillingIncrement, cost_micros
from ovp.domain.calls.numbers import AniOverrideType, Outbound, parse_destination
from ovp.domain.calls.policy import Allowed, CallRequest, Connection, Rate, Rejected, Usage
from ovp.domain.calls.refusal import Refusal
from ovp.domain.errors import InvalidInput, NotFound, Problem
from ovp.domain.ids import IdGenerator, parse_id
from ovp.domain.profiles.profile import ProfileDocument
from ovp.domain.validation import BAD_VALUE, MISSING, parse_object, parse_object_checked
from ovp.domain.webhooks.events import Webhooks
from ovp.services import call_events
from ovp.services.creating import with_new_id
from ovp.store import accounts as account_store
from ovp.store import calls as store
from ovp.store import connections as connection_store
from ovp.store import profiles as profile_store
from ovp.store import refusals as refusal_store
from ovp.store.database import Transaction, Work

# The refusals decided by the counters, after the rate was read.
_FULL_CODES = frozenset({"OVP4", "OVP5", "D1", "D3", "D2"})


class FullProfiles:
    """The profiles whose last authorization on this server was refused by a counter (D2, ...).

    On PostgreSQL an authorization records its call in the statement that reads the counters (see
    ovp.store.calls.CallRecords), and deletes it again if the counters refuse it: a saving for an
    allowed call, an insert and a delete (and a dead row) for each refusal while a switch retries
    against a full profile. So a profile refused last time is asked about without the record; the
    first call it allows again is recorded by a statement of its own. Only ever a hint: a server
    that forgets it, or never learns it, decides exactly the same."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._full: set[tuple[str, int]] = set()

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._full

    def note(self, key: tuple[str, int], decision: Allowed | Rejected) -> None:
        if isinstance(decision, Rejected) and decision.code in _FULL_CODES:
            if len(self._full) >= self._capacity:
                self._full.clear()  # bounded: a hint lost costs one insert and one delete
            self._full.add(key)
        else:
            self._full.discard(key)


@dataclass(frozen=True)
class CallSettings:
    billing: BillingIncrement = field(default_factory=BillingIncrement)
    max_call_secs: int = 4 * 3600  # once answered
    setup_secs: int = 120  # while ringing


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True)


# Numbers as a switch writes them; control characters (NUL above all) are refused, since no
# number holds one and PostgreSQL cannot store NUL.
NumberText = Annotated[str, Field(max_length=64, pattern=r"^[^\x00-\x1f\x7f]*$")]
# A call reported as lasting longer than a month is a switch's mistake; the cap also keeps the
# billed time, rounded up to an increment, within the database's 32-bit column.
MAX_DURATION_SECS = 31 * 24 * 3600


class AuthorizeBody(_Body):
    connection_id: str | None = None
    outbound_voice_profile_id: str | None = None
    to: Annotated[NumberText, Field(min_length=1)]
    caller: Annotated[NumberText, Field(alias="from")]


class EndBody(_Body):
    duration_secs: Annotated[int, Field(ge=0, le=MAX_DURATION_SECS)]


@dataclass(frozen=True)
class Subject:
    """What the switch asked about, its numbers as the connection's outbound settings make them."""

    profile_id: int | None
    connection_id: int | None
    dialled: str  # the number to dial: E.164 when it is a valid number
    caller: str  # the caller id to present
    connection: Connection | None = None  # None: asked for by profile
    account_channel_limit: int | None = None
    webhooks: Webhooks = Webhooks.NONE  # what the connection's calls send


@dataclass(frozen=True)
class Outcome:
    subject: Subject
    decision: Authorization | Refusal


def _no_such(what: str, value: object, pointer: str) -> InvalidInput:
    code, title = BAD_VALUE
    return InvalidInput([Problem(code, title, f"No {what} has the id {value}.", pointer=pointer)])


def _reference(value: str | None, pointer: str, what: str) -> int:
    found = parse_id(value) if value is not None else None
    if found is None:
        raise _no_such(what, value, pointer)
    return found


def _subject(tx: Transaction, account_id: str, body: AuthorizeBody) -> Subject:
    """Resolves the connection (when the call is asked for by connection) to its profile, its
    limits and what its outbound settings make of the call's numbers."""
    if body.outbound_voice_profile_id is not None:  # exactly one of the two (see parse_authorize)
        named = _reference(body.outbound_voice_profile_id, "/outbound_voice_profile_id", "outbound voice profile")
        return Subject(named, None, Outbound().to(body.to), body.caller,
                       account_channel_limit=account_store.channel_limit(tx, account_id))
    connection_id = _reference(body.connection_id, "/connection_id", "connection")
    try:
        calling = connection_store.calling_through(tx, account_id, connection_id)
    except NotFound:
        raise _no_such("connection", connection_id, "/connection_id") from None
    # Telnyx's defaults for a document stored without one of them.
    settings = calling.outbound
    outbound = Outbound(settings.get("ani_override", ""),
                        cast(AniOverrideType, settings.get("ani_override_type", "always")),
                        settings.get("localization", "US") or None)
    return Subject(calling.profile_id, connection_id, outbound.to(body.to), outbound.caller_id(body.caller, body.to),
                   Connection(calling.active, settings.get("channel_limit")), calling.account_channel_limit,
                   calling.webhooks)


def _profile(tx: Transaction, account_id: str, subject: Subject) -> ProfileDocument | None:
    if subject.profile_id is None:
        return None
    try:
        return profile_store.table.get(tx, account_id, subject.profile_id, for_update=True).value
    except NotFound:
        raise _no_such("outbound voice profile", subject.profile_id, "/outbound_voice_profile_id") from None


def parse_authorize(body: object) -> AuthorizeBody:
    """Checked before the work joins a group commit, so that a bad request fails alone; every problem
    at once, the fields' and which of the two ids it names."""
    return parse_object_checked(AuthorizeBody, body, _one_subject)


def _one_subject(body: dict[str, object]) -> list[Problem]:
    named = [name for name in ("connection_id", "outbound_voice_profile_id") if body.get(name) is not None]
    if len(named) == 1:
        return []
    code, title = MISSING
    return [Problem(code, title, "Send exactly one of connection_id and outbound_voice_profile_id.",
                    pointer="/connection_id")]


def parse_end(body: object) -> int:
    """The duration of an ended call, checked as parse_authorize checks its body."""
    return parse_object(EndBody, body).duration_secs


def authorize(
    tx: Transaction, account_id: str, request: AuthorizeBody, ids: IdGenerator, settings: CallSettings, now: datetime,
    full_profiles: FullProfiles | None = None,
) -> Outcome:
    subject = _subject(tx, account_id, request)
    profile = _profile(tx, account_id, subject)
    destination = parse_destination(subject.dialled)
    usage, rate = Usage(), _RateFound("", None)
    recorded: Authorization | None = None
    account_limit = subject.account_channel_limit
    if profile is not None and subject.profile_id is not None and destination is not None:
        # A call refused whatever its rate and counters is not recorded with them: it would be deleted again.
        refused_anyway = call_policy.refused_before_rating(
            profile, subject.dialled, subject.caller, subject.connection) is not None
        if account_limit is not None and not refused_anyway:
            # Locked after the profile, as every authorization locks them: the account's calls, on
            # any server, are counted against its limit one after another.
            account_limit = account_store.channel_limit(tx, account_id, for_update=True)
        channels = Usage() if refused_anyway else _channels(tx, account_id, subject, account_limit, now)
        query = _counter_query(account_id, profile, subject, now) if call_policy.needs_usage(profile) else None
        lately_full = full_profiles is not None and (account_id, subject.profile_id) in full_profiles
        drafted = not refused_anyway and not lately_full
        draft = functools.partial(_draft, ids, profile, subject, settings, now) if drafted else None
        read = store.records(tx).read_rate(tx, account_id, destination.digits, query, draft, settings.billing.initial)
        recorded = read.recorded
        if read.id_taken:
            ids.reseed()  # as with_new_id would, the draft's id being another call's
        rate = _RateFound(destination.digits, read.rate)
        counted = read.counters.usage() if read.counters is not None else Usage()
        usage = dataclasses.replace(counted, account_active_calls=channels.account_active_calls,
                                    connection_active_calls=channels.connection_active_calls)
    decision = call_policy.decide(
        CallRequest(profile, subject.dialled, subject.caller, now.time(), usage, settings.billing,
                    subject.connection, account_limit), rate
    )
    if full_profiles is not None and subject.profile_id is not None:
        full_profiles.note((account_id, subject.profile_id), decision)
    billing_group = _billing_group(profile)
    if isinstance(decision, Rejected):
        if recorded is not None:
            store.forget(tx, account_id, recorded.id)
        refusal = Refusal(ids.next_id(), subject.profile_id, subject.connection_id, billing_group, subject.dialled,
                          subject.caller, destination.country if destination is not None else None,
                          decision.sip_status, decision.code, decision.reason, _ms(now))
        refusal_store.record(tx, account_id, refusal)
        call_events.refused(tx, account_id, refusal, subject.webhooks)
        return Outcome(subject, refusal)
    if recorded is not None:
        allowed = _authorization(recorded.id, subject, decision, settings, now, billing_group)
    else:
        allowed = _record(tx, account_id, subject, decision, ids, settings, now, billing_group)
    call_events.allowed(tx, account_id, allowed)
    return Outcome(subject, allowed)


def _billing_group(profile: ProfileDocument | None) -> str | None:
    return profile["billing_group_id"] if profile is not None else None


def _channels(tx: Transaction, account_id: str, subject: Subject, account_limit: int | None,
              now: datetime) -> Usage:
    """The calls that hold a slot of the account and of the connection, counted where each has a
    limit (and only up to it), before the call is recorded."""
    connection_limit = subject.connection.channel_limit if subject.connection is not None else None
    now_ms = _ms(now)
    account = store.account_active(tx, account_id, now_ms, account_limit) if account_limit is not None else 0
    connection = 0
    if connection_limit is not None and subject.connection_id is not None:
        connection = store.connection_active(tx, account_id, subject.connection_id, now_ms, connection_limit)
    return Usage(account_active_calls=account, connection_active_calls=connection)


def _draft(ids: IdGenerator, profile: ProfileDocument, subject: Subject, settings: CallSettings,
           now: datetime) -> Authorization:
    """The call as it would be recorded if allowed: where the store records it with the reads the
    rules need (see ovp.store.calls.CallRecords), it is deleted again if they refuse it."""
    destination = parse_destination(subject.dialled)
    assert destination is not None
    provisional = Allowed(destination.country, "", Decimal(0),
                          call_policy.recording_of(profile["call_recording"], subject.caller))
    return _authorization(ids.next_id(), subject, provisional, settings, now, _billing_group(profile))


def _counter_query(account_id: str, profile: ProfileDocument, subject: Subject, now: datetime) -> store.CounterQuery:
    assert subject.profile_id is not None
    window = profile["calling_window"]
    opened = call_policy.window_opened_at(window.get("start_time"), now)
    return store.CounterQuery(account_id, subject.profile_id, now_ms=_ms(now), day=now.date().isoformat(),
                              dialled=subject.dialled, since_ms=_ms(opened), cld_cap=window.get("calls_per_cld") or 0)


@dataclass(frozen=True)
class _RateFound:
    """The rate read for the dialled number's digits, as the call rules ask for it."""

    digits: str
    rate: Rate | None

    def match(self, digits: str) -> Rate | None:
        assert digits == self.digits, "the rules ask for the rate of the number that was looked up"
        return self.rate


def _authorization(call_id: int, subject: Subject, allowed: Allowed, settings: CallSettings,
                   now: datetime, billing_group: str | None) -> Authorization:
    assert subject.profile_id is not None, "only a call with a profile is allowed"
    authorized_ms = _ms(now)
    return Authorization(
        id=call_id, profile_id=subject.profile_id, connection_id=subject.connection_id,
        dialled=subject.dialled, caller=subject.caller, country=allowed.country, prefix=allowed.prefix,
        per_minute=str(allowed.rate), billing_increment=str(settings.billing),
        reserved_micros=cost_micros(allowed.rate, settings.billing.initial),
        recording=orjson.dumps(dataclasses.asdict(allowed.recording)).decode(),
        authorized_ms=authorized_ms, expires_ms=authorized_ms + settings.setup_secs * 1000,
        max_duration_secs=settings.max_call_secs, billing_group_id=billing_group, webhooks=int(subject.webhooks),
    )


def _record(tx: Transaction, account_id: str, subject: Subject, allowed: Allowed, ids: IdGenerator,
            settings: CallSettings, now: datetime, billing_group: str | None) -> Authorization:
    def insert(call_id: int) -> Authorization:
        authorization = _authorization(call_id, subject, allowed, settings, now, billing_group)
        store.insert(tx, account_id, authorization)
        return authorization

    return with_new_id(ids, insert)


def profile_counters(tx: Transaction, account_id: str, profile_id: int, now: datetime) -> store.Counters:
    """The profile's active calls and today's spend, as the call rules see them now."""
    profile_store.table.get(tx, account_id, profile_id)  # NotFound unless the account has the profile
    return store.counters(tx, store.CounterQuery(account_id, profile_id, now_ms=_ms(now), day=now.date().isoformat()))


def retrieve(tx: Transaction, account_id: str, call_id: int) -> Authorization:
    """An allowed call's record."""
    found = store.get(tx, account_id, call_id)
    if found is None:
        raise NotFound()
    return found


def retrieve_decision(tx: Transaction, account_id: str, call_id: int) -> Authorization | Refusal:
    """A call's record, allowed or refused."""
    found = store.get(tx, account_id, call_id) or refusal_store.get(tx, account_id, call_id)
    if found is None:
        raise NotFound()
    return found


def answering(account_id: str, call_id: int, now: datetime) -> Work[Authorization]:
    """The answer of a call as a work: on PostgreSQL the answers of a group go in one round trip."""
    return store.answering(lambda tx: answer(tx, account_id, call_id, now), account_id, call_id, _ms(now),
                           lambda tx, call: call_events.answered(tx, account_id, call))


def answer(tx: Transaction, account_id: str, call_id: int, now: datetime) -> Authorization:
    """The switch confirms the call was answered: ringing, it then holds its slot for its maximum
    duration from now. Answered again, or ended, it is answered as it is; a call whose set-up timed
    out holds no slot any more, and is refused."""
    answered = store.answer(tx, account_id, call_id, _ms(now))
    if answered is not None:
        call_events.answered(tx, account_id, answered)
        return answered
    current = retrieve(tx, account_id, call_id)
    if current.status(_ms(now)) == "expired" and current.answered_ms is None:
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, "The call's set-up timed out: it holds no slot any more, and the "
                                                 "switch should hang it up.")])
    return current


def ending(account_id: str, call_id: int, duration: int, now: datetime) -> Work[Authorization]:
    """The end of a call as a work: on PostgreSQL the ends of a group go in one round trip."""
    return store.ending(lambda tx: end(tx, account_id, call_id, duration, now), account_id, call_id, duration,
                        _ms(now), now.date().isoformat(), lambda tx, call: call_events.ended(tx, account_id, call))


def end(tx: Transaction, account_id: str, call_id: int, duration: int, now: datetime) -> Authorization:
    """Releases the call's slot and books its cost against the profile's spend for today (UTC).
    A call already ended is answered as it was: ending twice books once."""
    day = now.date().isoformat()
    ended_at_once = store.records(tx).end_at_once(tx, account_id, call_id, duration, _ms(now), day)
    if ended_at_once is not None:
        call_events.ended(tx, account_id, ended_at_once)
        return ended_at_once
    current = store.get(tx, account_id, call_id, for_update=True)
    if current is None:
        raise NotFound()
    if current.ended_ms is not None:
        return current
    # A call ended before it was answered is billed nothing, whatever duration the switch gives.
    answered_secs = duration if current.answered_ms is not None else 0
    billed = BillingIncrement.parse(current.billing_increment).billed_seconds(answered_secs)
    ended = dataclasses.replace(
        current, ended_ms=_ms(now), duration_secs=duration, billed_secs=billed,
        cost_micros=cost_micros(Decimal(current.per_minute), billed),
    )
    store.end(tx, account_id, ended, day)
    call_events.ended(tx, account_id, ended)
    return ended


def _ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)
