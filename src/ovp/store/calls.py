"""Queries on call authorizations and daily spend: the counters behind the call rules."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Numeric,
    Select,
    String,
    Text,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.billing import dollars
from ovp.domain.calls.policy import Rate, Usage
from ovp.store import rates, refusals, webhooks
from ovp.store.database import OneStatement, Statement, Transaction, Work
from ovp.store.documents import DuplicateId
from ovp.store.schema import call_authorizations, daily_spend, profiles

_CALLS = call_authorizations.c
_SPEND = daily_spend.c
_FIELDS = [field.name for field in fields(Authorization)]
_ROW = [_CALLS[name] for name in _FIELDS]  # a row reads back as Authorization(*row)
_OWNED = (_CALLS.account_id == bindparam("owner")) & (_CALLS.id == bindparam("call_id"))
_OF_PROFILE = (_CALLS.account_id == bindparam("owner")) & (_CALLS.profile_id == bindparam("profile_id"))
# A call holds its slot until it ends or expires.
HOLDING = _CALLS.ended_ms.is_(None) & (_CALLS.expires_ms > bindparam("now_ms"))
_ACTIVE = _OF_PROFILE & HOLDING
_OF_CONNECTION_ACTIVE = (
    (_CALLS.account_id == bindparam("owner")) & (_CALLS.connection_id == bindparam("connection_id")) & HOLDING
)


def _count_up_to(where: ColumnElement[bool], cap: str) -> Select[Any]:
    """How many calls `where` holds, counted only up to the parameter `cap`: a limit of ten costs ten
    rows however many more there are. (An offset of its own: SQLite's LIMIT would bind another.)"""
    return select(func.count()).select_from(
        select(literal_column("1")).where(where)
        .limit(bindparam(cap, literal_execute=False)).offset(literal_column("0")).subquery())


# Every counter in one statement, so that they come from one snapshot (and one round trip): a
# call ending meanwhile is seen whole (slot released and cost booked) or not at all.
_COUNTERS = (
        select(func.count()).select_from(call_authorizations).where(_ACTIVE).scalar_subquery(),
        select(func.coalesce(func.sum(_CALLS.reserved_micros), literal_column("0"))).where(_ACTIVE).scalar_subquery(),
        select(func.coalesce(func.sum(_SPEND.spent_micros), literal_column("0")))
        .where((_SPEND.account_id == bindparam("owner")) & (_SPEND.profile_id == bindparam("profile_id"))
               & (_SPEND.day == bindparam("day")))
        .scalar_subquery(),
        # Counted only up to the limit, so a number called a million times costs no more.
        _count_up_to(_OF_PROFILE & (_CALLS.dialled == bindparam("dialled"))
                     & (_CALLS.authorized_ms >= bindparam("since_ms")), "cld_cap").scalar_subquery(),
)
_USAGE = Statement(select(*_COUNTERS))
# What an authorization reads, in one round trip: the rate of the dialled number, and the counters
# when the profile has limits.
_RATE = Statement(select(rates.LONGEST_MATCH))
_RATE_AND_USAGE = Statement(select(rates.LONGEST_MATCH, *_COUNTERS))


def _typed(name: str, type_: Any) -> Any:
    """A parameter whose type PostgreSQL cannot infer from where it stands (a SELECT's column)."""
    return cast(bindparam(name), type_)


# On PostgreSQL an authorization reads the rate and the counters and records the call as though it
# were allowed, in one statement (a data-modifying WITH): the counters come from the statement's
# snapshot, which does not hold the row it inserts, so they are those the rules must see; a call
# the rules refuse is deleted again (see rate_counters_and_record and forget). No row is inserted
# without a rate, or when the id is taken. The first increment is reserved at the rate found,
# billed as ovp.domain.calls.billing bills (a test checks it).
_RECORDED_FIELDS = ["account_id", "id", "profile_id", "connection_id", "dialled", "caller", "country", "prefix",
                    "per_minute", "billing_increment", "reserved_micros", "recording", "authorized_ms", "expires_ms",
                    "max_duration_secs", "billing_group_id", "webhooks"]
_BEST = rates.BEST_MATCH
_RESERVED = cast(func.round(cast(_BEST.c.per_minute, Numeric) * _typed("initial_secs", Integer)
                           * literal_column("1000000") / literal_column("60")), BigInteger)
_RECORDED = (
    postgresql_insert(call_authorizations)
    .from_select(_RECORDED_FIELDS, select(
        _typed("owner", String), _typed("call_id", BigInteger), _typed("profile_id", BigInteger),
        _typed("connection_id", BigInteger), _typed("dialled", String), _typed("caller", String),
        _typed("country", String), _BEST.c.prefix, _BEST.c.per_minute, _typed("billing_increment", String),
        _RESERVED, _typed("recording", Text), _typed("authorized_ms", BigInteger), _typed("expires_ms", BigInteger),
        _typed("max_duration_secs", Integer), _typed("billing_group_id", String), _typed("webhooks", Integer),
    ))
    .on_conflict_do_nothing(index_elements=["account_id", "id"])
    .returning(_CALLS.id)
    .cte("recorded")
)
_RECORDED_COUNT = select(func.count()).select_from(_RECORDED).scalar_subquery()
_RATE_AND_RECORD = Statement(select(rates.BEST_MATCH_TEXT, _RECORDED_COUNT))
_RATE_USAGE_AND_RECORD = Statement(select(rates.BEST_MATCH_TEXT, _RECORDED_COUNT, *_COUNTERS))
# An id another server made too is skipped, not an error (the same SQL on SQLite and PostgreSQL):
# the caller sees no row inserted and draws another id, without a savepoint's round trips. The
# column names are Authorization's field names, not input.
_INSERT = Statement(text(
    f"INSERT INTO call_authorizations (account_id, {', '.join(_FIELDS)}) "  # noqa: S608
    f"VALUES (:account_id, {', '.join(':' + name for name in _FIELDS)}) ON CONFLICT (account_id, id) DO NOTHING"
))
_SELECT = Statement(select(*_ROW).where(_OWNED))
_SELECT_FOR_UPDATE = Statement(select(*_ROW).where(_OWNED).with_for_update())
# Locks the call's profile too, in the same round trip: every write that touches a profile's
# counters (an authorization, the end of a call) takes the profile's row first, so two servers'
# groups of such writes queue on it instead of taking the daily spend row in another order.
# The call by its primary key, then its profile by its own: in a plain join, a plan made on an empty
# table found the profile among all the account's.
_LOCKED_CALL = select(call_authorizations).where(_OWNED).with_for_update().cte("locked_call")
_SELECT_WITH_PROFILE_FOR_UPDATE = Statement(
    select(*[_LOCKED_CALL.c[name] for name in _FIELDS]).select_from(_LOCKED_CALL.join(
        profiles, (profiles.c.account_id == _LOCKED_CALL.c.account_id) & (profiles.c.id == _LOCKED_CALL.c.profile_id)))
    .with_for_update(of=profiles)
)
_END = Statement(
    call_authorizations.update()
    .where(_OWNED & _CALLS.ended_ms.is_(None))
    .values(ended_ms=bindparam("ended_ms"), duration_secs=bindparam("duration_secs"),
            billed_secs=bindparam("billed_secs"), cost_micros=bindparam("cost_micros"))
)
# The same upsert is valid on SQLite (3.24+) and PostgreSQL.
_ADD_TO_SPEND = ("ON CONFLICT (account_id, profile_id, day) "
                 "DO UPDATE SET spent_micros = daily_spend.spent_micros + excluded.spent_micros")
_BOOK = Statement(text(
    "INSERT INTO daily_spend (profile_id, day, account_id, spent_micros) "  # noqa: S608
    f"VALUES (:profile_id, :day, :owner, :cost_micros) {_ADD_TO_SPEND}"
))
# On PostgreSQL the end of a call is one statement (a data-modifying WITH, which SQLite lacks):
# the call's profile locked first (as every write touching a profile's counters does; a call whose
# profile was deleted ends all the same), the call ended and billed by its own rate and increment,
# and its cost booked, in one round trip. Billed as ovp.domain.calls.billing bills, which a test checks:
# a call that never connected costs nothing, any other pays the first increment, then each started
# subsequent one; the cost is rounded half up to a micro-dollar.
_INITIAL = "split_part(billing_increment, '/', 1)::int"
_SUBSEQUENT = "split_part(billing_increment, '/', 2)::int"


def _billed_sql(duration: str) -> str:
    return (f"CASE WHEN {duration} <= 0 THEN 0 ELSE {_INITIAL} + "
            f"ceil(greatest({duration} - {_INITIAL}, 0)::numeric / {_SUBSEQUENT})::int * {_SUBSEQUENT} END")


def _cost_sql(billed: str) -> str:
    return f"round(per_minute::numeric * ({billed}) * 1000000 / 60)::bigint"


BILLED_SQL = _billed_sql(":duration_secs")
COST_SQL = _cost_sql(BILLED_SQL)
# A call ended before it was answered is billed nothing, whatever duration the switch gives.
_ANSWERED_BILLED_SQL = _billed_sql("(CASE WHEN answered_ms IS NULL THEN 0 ELSE :duration_secs END)")
_END_AT_ONCE = Statement(text(
    "WITH profile AS (SELECT id FROM outbound_voice_profiles WHERE account_id = :owner AND id = "  # noqa: S608
    "(SELECT profile_id FROM call_authorizations WHERE account_id = :owner AND id = :call_id) FOR UPDATE), "
    "ended AS (UPDATE call_authorizations SET ended_ms = :ended_ms, duration_secs = :duration_secs, "
    f"billed_secs = {_ANSWERED_BILLED_SQL}, cost_micros = {_cost_sql(_ANSWERED_BILLED_SQL)} "
    # Always true: a one-time filter, which PostgreSQL runs before it looks for the call's row, so
    # the profile's lock comes first.
    "WHERE account_id = :owner AND id = :call_id AND ended_ms IS NULL AND (SELECT count(*) FROM profile) >= 0 "
    f"RETURNING {', '.join(_FIELDS)}), "
    "booked AS (INSERT INTO daily_spend (profile_id, day, account_id, spent_micros) "
    f"SELECT profile_id, :day, :owner, cost_micros FROM ended {_ADD_TO_SPEND}) "
    f"SELECT {', '.join(_FIELDS)} FROM ended"
))
# How many calls hold a slot now, of the account or of one of its connections, counted only up to
# the limit they are compared with.
_ACCOUNTHOLDING = Statement(_count_up_to((_CALLS.account_id == bindparam("owner")) & HOLDING, "cap"))
_CONNECTIONHOLDING = Statement(_count_up_to(_OF_CONNECTION_ACTIVE, "cap"))


def account_active(tx: Transaction, account_id: str, now_ms: int, cap: int) -> int:
    """The account's calls that hold a slot at `now_ms`, counted up to `cap`."""
    return int(tx.scalar(_ACCOUNTHOLDING, {"owner": account_id, "now_ms": now_ms, "cap": cap}))


def connection_active(tx: Transaction, account_id: str, connection_id: int, now_ms: int, cap: int) -> int:
    """The connection's calls that hold a slot at `now_ms`, counted up to `cap`."""
    return int(tx.scalar(_CONNECTIONHOLDING,
                         {"owner": account_id, "connection_id": connection_id, "now_ms": now_ms, "cap": cap}))


# The answer of a ringing call, in one statement that answers the call as it now is (RETURNING:
# SQLite 3.35 or later): it holds its slot for its maximum duration from now. A call ended,
# answered already or whose set-up timed out is left as it is.
_ANSWER = Statement(
    call_authorizations.update()
    .where(_OWNED & _CALLS.ended_ms.is_(None) & _CALLS.answered_ms.is_(None)
           & (_CALLS.expires_ms > bindparam("now_ms")))
    .values(answered_ms=bindparam("now_ms"),
            expires_ms=bindparam("now_ms") + _CALLS.max_duration_secs * literal_column("1000"))
    .returning(*_ROW)
)


def answer(tx: Transaction, account_id: str, call_id: int, now_ms: int) -> Authorization | None:
    """The account's ringing call, answered at `now_ms`; None, changing nothing, unless it was ringing."""
    found = tx.rows(_ANSWER, {"owner": account_id, "call_id": call_id, "now_ms": now_ms})
    return Authorization(*found[0]) if found else None


def answering(work: Work[Authorization], account_id: str, call_id: int, now_ms: int,
              then: Callable[[Transaction, Authorization], None]) -> Work[Authorization]:
    """`work`, the answer of a call, as the one statement of `answer` where the database takes
    many at once: the answers of a group then go in one round trip (see ovp.store.database.run_group),
    each followed by `then` with the answered call."""
    return OneStatement(work, _ANSWER, {"owner": account_id, "call_id": call_id, "now_ms": now_ms}, call_id,
                        lambda row: Authorization(*row), then)


# Every account's calls holding a slot now, for the server's metrics.
_COUNT_ACTIVE = Statement(
    select(func.count()).select_from(call_authorizations).where(HOLDING)
)
_DELETE_ONE = Statement(call_authorizations.delete().where(_OWNED))
_DELETE_CALLS = Statement(call_authorizations.delete().where(_CALLS.account_id == bindparam("owner")))
_DELETE_SPEND = Statement(daily_spend.delete().where(_SPEND.account_id == bindparam("owner")))
_DELETE_ALL_CALLS = Statement(call_authorizations.delete())
_PURGE_CALLS = Statement(
    call_authorizations.delete().where(
        (_CALLS.authorized_ms < bindparam("before_ms"))
        & (_CALLS.ended_ms.is_not(None) | (_CALLS.expires_ms <= bindparam("now_ms")))
    )
)
_PURGE_SPEND = Statement(daily_spend.delete().where(_SPEND.day < bindparam("before_day")))
_DELETE_ALL_SPEND = Statement(daily_spend.delete())


@dataclass(frozen=True)
class Counters:
    active_calls: int
    reserved_micros: int  # the first increments of the active calls
    spent_micros: int  # what the calls that ended on the day cost
    calls_to_number: int

    def usage(self) -> Usage:
        return Usage(self.active_calls, self.calls_to_number, dollars(self.spent_micros + self.reserved_micros))


@dataclass(frozen=True)
class CounterQuery:
    """Which counters to read: calls to `dialled` since `since_ms` are counted up to `cld_cap`."""

    account_id: str
    profile_id: int
    now_ms: int
    day: str
    dialled: str = ""
    since_ms: int = 0
    cld_cap: int = 0

    def params(self) -> dict[str, object]:
        return {"owner": self.account_id, "profile_id": self.profile_id, "now_ms": self.now_ms, "day": self.day,
                "dialled": self.dialled,
                "since_ms": self.since_ms, "cld_cap": self.cld_cap}


def _counters(row: Sequence[Any]) -> Counters:
    active, reserved, spent, to_number = (int(value) for value in row)
    return Counters(active, reserved, spent, to_number)


def counters(tx: Transaction, query: CounterQuery) -> Counters:
    """The profile's counters now."""
    return _counters(tx.rows(_USAGE, query.params())[0])


def rate_and_counters(
    tx: Transaction, account_id: str, digits: str, query: CounterQuery | None
) -> tuple[Rate | None, Counters | None]:
    """The account's rate for a number's digits, and the counters when `query` asks for them."""
    params = rates.match_params(account_id, digits)
    if query is None:
        return rates.matched(tx.rows(_RATE, params)[0][0]), None
    row = tx.rows(_RATE_AND_USAGE, {**params, **query.params()})[0]
    return rates.matched(row[0]), _counters(row[1:])


def rate_counters_and_record(
    tx: Transaction, account_id: str, digits: str, query: CounterQuery | None, call: Authorization, initial_secs: int
) -> tuple[Rate | None, Counters | None, bool]:
    """As rate_and_counters, and in the same statement `call` recorded as though it were allowed
    (PostgreSQL only): at the rate found, its prefix and per_minute, and the cost of its first
    `initial_secs` reserved, whatever `call` holds for them. Answers, too, whether it was
    recorded: not without a rate, nor when its id is taken. A call recorded and then refused
    takes `forget`."""
    params = {**rates.match_params(account_id, digits), **(query.params() if query is not None else {}),
              **{name: getattr(call, name) for name in _FIELDS}, "call_id": call.id, "initial_secs": initial_secs}
    if query is None:
        found, recorded = tx.rows(_RATE_AND_RECORD, params)[0]
        return rates.matched(found), None, recorded == 1
    row = tx.rows(_RATE_USAGE_AND_RECORD, params)[0]
    return rates.matched(row[0]), _counters(row[2:]), row[1] == 1


@dataclass(frozen=True)
class RateRead:
    """What an authorization reads: the rate, the counters when asked for, and the call when it
    was recorded in the same statement (`id_taken`: it was not, another call having its id)."""

    rate: Rate | None
    counters: Counters | None
    recorded: Authorization | None = None
    id_taken: bool = False


class CallRecords(Protocol):
    """How a backend reads and writes calls where it can do more in one statement than another."""

    def read_rate(self, tx: Transaction, account_id: str, digits: str, query: CounterQuery | None,
                  draft: Callable[[], Authorization] | None, initial_secs: int) -> RateRead:
        """The rate and the counters; the call `draft` makes (if any) recorded with them, as though
        allowed, where the backend can in the same statement."""

    def end_at_once(self, tx: Transaction, account_id: str, call_id: int, duration_secs: int, ended_ms: int,
                    day: str) -> Authorization | None:
        """The call ended, billed and booked in one statement where the backend can; None, changing
        nothing, where it cannot, or has no such call not ended yet."""


class _StatementByStatement:
    """SQLite: a statement a step, each on the event loop's thread, so each costs microseconds."""

    def read_rate(self, tx: Transaction, account_id: str, digits: str, query: CounterQuery | None,
                  draft: Callable[[], Authorization] | None, initial_secs: int) -> RateRead:
        return RateRead(*rate_and_counters(tx, account_id, digits, query))

    def end_at_once(self, tx: Transaction, account_id: str, call_id: int, duration_secs: int, ended_ms: int,
                    day: str) -> Authorization | None:
        return None


class _WritingThroughWith:
    """PostgreSQL: a round trip a statement, so a statement that writes through a WITH does in one
    what would take two or three (an allowed call's read and record; a call's end)."""

    def read_rate(self, tx: Transaction, account_id: str, digits: str, query: CounterQuery | None,
                  draft: Callable[[], Authorization] | None, initial_secs: int) -> RateRead:
        if draft is None:
            return RateRead(*rate_and_counters(tx, account_id, digits, query))
        call = draft()
        found, counters, recorded = rate_counters_and_record(tx, account_id, digits, query, call, initial_secs)
        return RateRead(found, counters, call if recorded else None, id_taken=found is not None and not recorded)

    def end_at_once(self, tx: Transaction, account_id: str, call_id: int, duration_secs: int, ended_ms: int,
                    day: str) -> Authorization | None:
        found = tx.rows(_END_AT_ONCE, _end_params(account_id, call_id, duration_secs, ended_ms, day))
        return Authorization(*found[0]) if found else None


_BACKENDS: dict[str, CallRecords] = {"sqlite": _StatementByStatement(), "postgresql": _WritingThroughWith()}


def records(tx: Transaction) -> CallRecords:
    """The calls' reads and writes as the transaction's database does them best."""
    return _BACKENDS[tx.dialect.name]


def forget(tx: Transaction, account_id: str, call_id: int) -> None:
    """Deletes a call recorded in this transaction and refused after all."""
    tx.execute(_DELETE_ONE, {"owner": account_id, "call_id": call_id})


def insert(tx: Transaction, account_id: str, authorization: Authorization) -> None:
    """Raises DuplicateId, having stored nothing, when the id is taken."""
    values = {"account_id": account_id, **{name: getattr(authorization, name) for name in _FIELDS}}
    if tx.execute(_INSERT, values) == 0:
        raise DuplicateId(authorization.id)


def get(tx: Transaction, account_id: str, call_id: int, *, for_update: bool = False) -> Authorization | None:
    """The account's authorization; `for_update` locks it and its profile (when the profile is
    still there) until the transaction ends."""
    params = {"owner": account_id, "call_id": call_id}
    if not for_update:
        found = tx.rows(_SELECT, params)
    else:
        found = tx.rows(_SELECT_WITH_PROFILE_FOR_UPDATE, params) or tx.rows(_SELECT_FOR_UPDATE, params)
    return Authorization(*found[0]) if found else None


def end(tx: Transaction, account_id: str, ended: Authorization, day: str) -> None:
    """Records the end of a call that the transaction locked, not ended yet, and books its cost
    for `day`."""
    tx.execute(_END, {"owner": account_id, "call_id": ended.id, "ended_ms": ended.ended_ms,
                      "duration_secs": ended.duration_secs, "billed_secs": ended.billed_secs,
                      "cost_micros": ended.cost_micros})
    tx.execute(_BOOK, {"profile_id": ended.profile_id, "day": day, "owner": account_id,
                       "cost_micros": ended.cost_micros})


def _end_params(account_id: str, call_id: int, duration_secs: int, ended_ms: int, day: str) -> dict[str, Any]:
    return {"owner": account_id, "call_id": call_id, "ended_ms": ended_ms, "duration_secs": duration_secs, "day": day}


def ending(work: Work[Authorization], account_id: str, call_id: int, duration_secs: int, ended_ms: int,
           day: str, then: Callable[[Transaction, Authorization], None]) -> Work[Authorization]:
    """`work`, the end of a call, as the one statement of end_at_once where the database takes
    many at once: the ends of a group then go in one round trip (see ovp.store.database.run_group),
    each followed by `then` with the ended call."""
    return OneStatement(work, _END_AT_ONCE, _end_params(account_id, call_id, duration_secs, ended_ms, day),
                        call_id, lambda row: Authorization(*row), then)


_COUNT_OF_CONNECTION = Statement(select(func.count()).select_from(call_authorizations).where(_OF_CONNECTION_ACTIVE))
# Oldest first, ties by id: pages never overlap or skip while calls come and go between them.
_PAGE_OF_CONNECTION = Statement(
    select(_CALLS.id, func.coalesce(_CALLS.answered_ms, _CALLS.authorized_ms)).where(_OF_CONNECTION_ACTIVE)
    .order_by(_CALLS.authorized_ms, _CALLS.id)
    .limit(bindparam("limit", literal_execute=False)).offset(bindparam("offset", literal_execute=False))
)


def active_of_connection(tx: Transaction, account_id: str, connection_id: int, now_ms: int, *,
                         limit: int, offset: int) -> tuple[list[tuple[int, int]], int]:
    """One page of the connection's calls that hold a slot at `now_ms`, oldest first, as (id, when
    it was answered, or allowed while it rings); and how many there are."""
    params = {"owner": account_id, "connection_id": connection_id, "now_ms": now_ms}
    total = int(tx.scalar(_COUNT_OF_CONNECTION, params))
    if offset >= total:
        return [], total
    rows = tx.rows(_PAGE_OF_CONNECTION, {**params, "limit": limit, "offset": offset})
    return [(int(call_id), int(authorized_ms)) for call_id, authorized_ms in rows], total


def count_active(tx: Transaction, now_ms: int) -> int:
    """How many calls, in every account, hold a slot at `now_ms`."""
    return int(tx.scalar(_COUNT_ACTIVE, {"now_ms": now_ms}))


def delete_account(tx: Transaction, account_id: str) -> int:
    """Deletes the account's calls, allowed and refused, and its spend; answers how many allowed."""
    tx.execute(_DELETE_SPEND, {"owner": account_id})
    refusals.delete_account(tx, account_id)
    return tx.execute(_DELETE_CALLS, {"owner": account_id})


def delete_everything(tx: Transaction) -> int:
    tx.execute(_DELETE_ALL_SPEND)
    refusals.delete_everything(tx)
    return tx.execute(_DELETE_ALL_CALLS)


@dataclass(frozen=True)
class Purged:
    calls: int  # allowed
    refusals: int
    days: int  # of a profile's spend
    deliveries: int = 0  # of webhooks, delivered or given up


def purge(tx: Transaction, *, before_ms: int, before_day: str, now_ms: int) -> Purged:
    """Deletes, in every account, the records of calls decided before `before_ms` (the allowed
    ones once they no longer hold a slot), the webhook deliveries settled of events written before
    it, and the daily spend of the days before `before_day`."""
    calls = tx.execute(_PURGE_CALLS, {"before_ms": before_ms, "now_ms": now_ms})
    refused = refusals.purge(tx, before_ms=before_ms)
    return Purged(calls, refused, tx.execute(_PURGE_SPEND, {"before_day": before_day}),
                  webhooks.purge(tx, before_ms=before_ms))
