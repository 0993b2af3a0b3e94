"""The webhook events' queue and the deployment's signing key.

An event is written with the transaction's COMMIT (Transaction.append), a group's in one statement.
A server claims due events for a lease (on PostgreSQL FOR UPDATE SKIP LOCKED, so that two servers
never claim one event), sends them, and records each attempt. A call's events go out in order: a
call's due events are claimed together, as a chain its server sends one after the other; an event
whose call has an earlier one pending elsewhere (not due, or another server's) waits for it, and is
put off until that one's next attempt rather than read again on every claim."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from functools import cache
from typing import Any, Protocol

from sqlalchemy import ColumnElement, and_, bindparam, exists, func, literal_column, null, or_, select, text, update
from sqlalchemy.orm import aliased

from ovp.domain.calls.authorization import Authorization
from ovp.domain.clock import wall_ms
from ovp.domain.errors import NotFound
from ovp.domain.webhooks.deliveries import DeliveryFilter
from ovp.domain.webhooks.events import Event, Webhooks
from ovp.domain.webhooks.signing import KeyPair
from ovp.store.connections import any_kind
from ovp.store.database import Statement, Transaction
from ovp.store.schema import call_authorizations, webhook_events, webhook_keys

_E = webhook_events.c
# A literal, not a parameter: PostgreSQL uses a partial index (WHERE status = 'pending') only for
# a statement whose own condition is the same.
_IS_PENDING = _E.status == literal_column("'pending'")
_INSERT = Statement(text(
    "INSERT INTO webhook_events (id, event_id, account_id, call_id, seq, connection_id, event_type, payload, "
    "created_ms, status, next_attempt_ms, attempt_count, attempts) VALUES (:id, :event_id, :account_id, :call_id, "
    ":seq, :connection_id, :event_type, :payload, :created_ms, 'pending', :created_ms, 0, '[]')"
))


def record(tx: Transaction, account_id: str, event: Event) -> None:
    """Writes the event with the transaction's COMMIT: none for a decision that rolls back. Its
    time is the wall clock's, which its retries keep to (not ovp's clock, which a test may move)."""
    created_ms = wall_ms()
    tx.append(_INSERT, {"id": event.delivery_id, "event_id": event.event_id, "account_id": account_id,
                        "call_id": event.call_id, "seq": event.seq, "connection_id": event.connection_id,
                        "event_type": event.event_type, "payload": event.body, "created_ms": created_ms})


@dataclass(frozen=True)
class Claimed:
    id: str
    account_id: str
    call_id: int
    seq: int
    connection_id: int
    event_type: str
    payload: str
    created_ms: int
    attempt_count: int
    attempts: str  # JSON, newest first


@dataclass(frozen=True)
class Destination:
    url: str | None
    failover_url: str | None
    timeout_secs: int | None


_EARLIER = aliased(webhook_events)
_EARLIER_OF_CALL = ((_EARLIER.c.account_id == _E.account_id) & (_EARLIER.c.call_id == _E.call_id)
                    & (_EARLIER.c.status == literal_column("'pending'")) & (_EARLIER.c.seq < _E.seq))
# How many of the call's events before this one are pending.
_EARLIER_PENDING = select(func.count()).where(_EARLIER_OF_CALL).scalar_subquery()
# When the call's earlier pending event is next tried: none when no earlier one is pending.
_EARLIER_NEXT = select(func.max(_EARLIER.c.next_attempt_ms)).where(_EARLIER_OF_CALL).scalar_subquery()
_FREE = or_(_E.claimed_until_ms.is_(None), _E.claimed_until_ms <= bindparam("now_ms"))
_CLAIMED_COLUMNS = [_E.id, _E.account_id, _E.call_id, _E.seq, _E.connection_id, _E.event_type, _E.payload,
                    _E.created_ms, _E.attempt_count, _E.attempts]


@cache
def _due(busy: int) -> Statement:
    """The due events, oldest due first (among those due at one moment, by call and each call's in
    order: a LIMIT then cuts no call's events apart but the last), but those of `busy` calls (ids
    b0, b1, ...): this server is sending their earlier events, so they cannot go yet, and a claim
    that read them again on every turn would read more of them than it claims. (By call id alone:
    two accounts' calls that share one, a rare collision, only wait a turn more.)"""
    due = [_IS_PENDING, _E.next_attempt_ms <= bindparam("now_ms"), _FREE]
    if busy:
        due.append(_E.call_id.not_in([bindparam(f"b{i}") for i in range(busy)]))
    return Statement(
        select(*_CLAIMED_COLUMNS, _EARLIER_PENDING).where(and_(*due))
        .order_by(_E.next_attempt_ms, _E.call_id, _E.seq).limit(bindparam("limit", literal_execute=False))
        .offset(literal_column("0"))  # SQLite's LIMIT would bind an offset of its own
        .with_for_update(skip_locked=True, of=webhook_events)
    )


@cache
def _still_waiting(count: int) -> Statement:
    """Of `count` events (ids e0, e1, ...), those whose call still has an earlier one pending, and
    when that one is next tried, read again (see claim)."""
    return Statement(select(_E.id, _EARLIER_NEXT).where(_E.id.in_([bindparam(f"e{i}") for i in range(count)])))


_CLAIM = Statement(
    update(webhook_events).where(_E.id == bindparam("event")).values(claimed_until_ms=bindparam("until_ms"))
)
_CLAIM_ALL = Statement(text(
    "UPDATE webhook_events SET claimed_until_ms = :until_ms WHERE id = ANY(CAST(:events AS VARCHAR[]))"
))
_PUT_OFF = Statement(
    update(webhook_events).where(_E.id == bindparam("event")).values(next_attempt_ms=bindparam("until_ms"))
)


def claim(tx: Transaction, now_ms: int, lease_ms: int, limit: int,
          busy: Collection[tuple[str, int]] = ()) -> list[list[Claimed]]:
    """Up to `limit` due events, in chains: each chain a call's due events in order, from its
    earliest pending one on, leased to this server until `now_ms + lease_ms`. The due events that
    wait for an earlier one of their call not in their chain are put off until that one's next
    attempt (a second at least). The events of a call in `busy` (account id, call id) are left
    alone: this server is sending its earlier event, and its record of that one makes them
    claimable. A few statements, however many events."""
    calls: dict[tuple[str, int], list[tuple[Claimed, int]]] = {}
    busy_ids = sorted({call_id for _account, call_id in busy})
    params = {"now_ms": now_ms, "limit": limit, **{f"b{i}": call_id for i, call_id in enumerate(busy_ids)}}
    for *row, earlier_pending in tx.rows(_due(len(busy_ids)), params):
        event = Claimed(*row)
        calls.setdefault((event.account_id, event.call_id), []).append((event, int(earlier_pending)))
    chains: list[list[Claimed]] = []
    waiting: list[str] = []
    room = limit
    for found in calls.values():  # the calls whose events are the longest due first
        found.sort(key=lambda pair: pair[0].seq)
        chain: list[Claimed] = []
        for index, (event, earlier_pending) in enumerate(found):
            if earlier_pending != len(chain):  # an earlier event of its call is pending, not in the chain
                waiting += [later.id for later, _earlier in found[index:]]
                break
            if room == 0:
                break
            chain.append(event)
            room -= 1
        if chain:
            chains.append(chain)
    if chains:
        _batches(tx).claim(tx, [event.id for chain in chains for event in chain], now_ms + lease_ms)
    if waiting:
        # Read again, by a statement of its own: on PostgreSQL the first read's view of the earlier
        # events may predate one's delivery, whose drawing forward of this one waited for this
        # claim's lock; an event put off on that view would wait for nothing.
        read_again = tx.rows(_still_waiting(len(waiting)), {f"e{i}": event for i, event in enumerate(waiting)})
        put_off = [{"event": event, "until_ms": max(int(earlier_next_ms), now_ms + 1000)}
                   for event, earlier_next_ms in read_again if earlier_next_ms is not None]
        if put_off:
            tx.execute_many(_PUT_OFF, put_off)
    return chains


def destination(tx: Transaction, account_id: str, connection_id: int) -> Destination:
    """Where the connection's events go now; no URL when it has none any more, or is gone."""
    try:
        connection = any_kind.get(tx, account_id, connection_id).value
    except NotFound:
        return Destination(None, None, None)
    return Destination(connection.get("webhook_event_url") or None,
                       connection.get("webhook_event_failover_url") or None, connection.get("webhook_timeout_secs"))


@dataclass(frozen=True)
class Outcome:
    """An attempt's result: `status` delivered, failed (for good) or pending (tried again at `next_ms`)."""

    id: str
    status: str
    next_attempt_ms: int
    attempts: str  # every attempt so far, newest first, as JSON
    attempt_count: int
    finished_ms: int | None


_FINISH = Statement(
    update(webhook_events).where(_E.id == bindparam("event"))
    .values(status=bindparam("status"), next_attempt_ms=bindparam("next_ms"), claimed_until_ms=null(),
            attempts=bindparam("attempts"), attempt_count=bindparam("attempt_count"),
            finished_ms=bindparam("finished_ms"))
)
# The call's next event goes out as soon as the one before it is done with.
_NEXT_OF_CALL = Statement(
    update(webhook_events)
    .where((_E.account_id == bindparam("owner")) & (_E.call_id == bindparam("call_id")) & _IS_PENDING
           & (_E.seq > bindparam("seq")) & (_E.next_attempt_ms > bindparam("now_ms")))
    .values(next_attempt_ms=bindparam("now_ms"))
)
# A receiver that answered again gets the events it missed now, not at each one's backed-off retry.
_CONNECTION_BACK = Statement(
    update(webhook_events)
    .where((_E.connection_id == bindparam("connection_id")) & (_E.account_id == bindparam("owner"))
           & _IS_PENDING & (_E.next_attempt_ms > bindparam("now_ms")))
    .values(next_attempt_ms=bindparam("now_ms"))
)


@dataclass(frozen=True)
class Finished:
    """An attempt's result (or an event put off), whether its receiver answered again after failing,
    and whether the call's next events are due now: the event is done with, and was its chain's last."""

    event: Claimed
    outcome: Outcome
    back: bool
    draws_next: bool = False


def finish_all(tx: Transaction, results: Sequence[Finished], now_ms: int) -> None:
    """Records a batch of results, in three statements however many: each event's outcome, the
    next event of each call whose event is done with, and the connections whose receiver is back."""
    batches = _batches(tx)
    batches.finish(tx, [result.outcome for result in results])
    done = [result.event for result in results if result.draws_next]
    if done:
        batches.draw_next(tx, done, now_ms)
    for account_id, connection_id in {(result.event.account_id, result.event.connection_id)
                                      for result in results if result.back}:
        connection_back(tx, account_id, connection_id, now_ms)


# PostgreSQL: a batch's rows as arrays, one statement for all, where executemany would send each
# row its own execution, and the server would plan and run each apart (docs/performance.md, "Call
# webhooks").
_FINISH_ALL = Statement(text(
    "UPDATE webhook_events SET status = v.status, next_attempt_ms = v.next_ms, claimed_until_ms = NULL, "
    "attempts = v.attempts, attempt_count = v.attempt_count, finished_ms = v.finished_ms "
    "FROM unnest(CAST(:events AS VARCHAR[]), CAST(:statuses AS VARCHAR[]), CAST(:next_ms AS BIGINT[]), "
    "CAST(:attempts AS TEXT[]), CAST(:attempt_counts AS INTEGER[]), CAST(:finished_ms AS BIGINT[])) "
    "AS v (id, status, next_ms, attempts, attempt_count, finished_ms) "
    "WHERE webhook_events.id = v.id"
))
_NEXT_OF_CALLS = Statement(text(
    "UPDATE webhook_events SET next_attempt_ms = :now_ms "
    "FROM unnest(CAST(:owners AS VARCHAR[]), CAST(:call_ids AS BIGINT[]), CAST(:seqs AS INTEGER[])) "
    "AS v (owner, call_id, seq) "
    "WHERE webhook_events.account_id = v.owner AND webhook_events.call_id = v.call_id "
    "AND webhook_events.status = 'pending' AND webhook_events.seq > v.seq "
    "AND webhook_events.next_attempt_ms > :now_ms"
))


class Batches(Protocol):
    """How a backend writes a batch of the sender's: its claims, its results, and its calls' next events."""

    def claim(self, tx: Transaction, events: list[str], until_ms: int) -> None: ...

    def finish(self, tx: Transaction, outcomes: list[Outcome]) -> None: ...

    def draw_next(self, tx: Transaction, events: list[Claimed], now_ms: int) -> None: ...


class _RowByRow:
    """SQLite: executemany runs each row in the process, a few microseconds each."""

    def claim(self, tx: Transaction, events: list[str], until_ms: int) -> None:
        tx.execute_many(_CLAIM, [{"event": event, "until_ms": until_ms} for event in events])

    def finish(self, tx: Transaction, outcomes: list[Outcome]) -> None:
        tx.execute_many(_FINISH, [
            {"event": outcome.id, "status": outcome.status, "next_ms": outcome.next_attempt_ms,
             "attempts": outcome.attempts, "attempt_count": outcome.attempt_count,
             "finished_ms": outcome.finished_ms} for outcome in outcomes])

    def draw_next(self, tx: Transaction, events: list[Claimed], now_ms: int) -> None:
        tx.execute_many(_NEXT_OF_CALL, [{"owner": event.account_id, "call_id": event.call_id, "seq": event.seq,
                                         "now_ms": now_ms} for event in events])


# A plan made for each run, with the array's length and the table's size as they are then, rather
# than one generic plan kept for the session: made while the table was small (a new database), the
# generic plan scans the whole table (cheaper than an index for a few pages), and would go on
# scanning it as it grows, until the table's next ANALYZE. A row's UPDATE by its key (executemany's)
# never had that choice to make. (For the rest of the transaction: where a sender shares its
# process's database with the workers, as in-process servers do, the works grouped after a turn
# are planned each run too, which costs microseconds and changes no answer.)
PLAN_EACH_RUN = "SET LOCAL plan_cache_mode = force_custom_plan"


class _OverArrays:
    """PostgreSQL: each batch one statement over arrays."""

    def claim(self, tx: Transaction, events: list[str], until_ms: int) -> None:
        _plan_each_run(tx)
        tx.execute(_CLAIM_ALL, {"events": events, "until_ms": until_ms})

    def finish(self, tx: Transaction, outcomes: list[Outcome]) -> None:
        _plan_each_run(tx)
        latest = list({outcome.id: outcome for outcome in outcomes}.values())  # one row an event, its last
        tx.execute(_FINISH_ALL, {
            "events": [outcome.id for outcome in latest], "statuses": [outcome.status for outcome in latest],
            "next_ms": [outcome.next_attempt_ms for outcome in latest],
            "attempts": [outcome.attempts for outcome in latest],
            "attempt_counts": [outcome.attempt_count for outcome in latest],
            "finished_ms": [outcome.finished_ms for outcome in latest]})

    def draw_next(self, tx: Transaction, events: list[Claimed], now_ms: int) -> None:
        _plan_each_run(tx)
        tx.execute(_NEXT_OF_CALLS, {"owners": [event.account_id for event in events],
                                    "call_ids": [event.call_id for event in events],
                                    "seqs": [event.seq for event in events], "now_ms": now_ms})


def _plan_each_run(tx: Transaction) -> None:
    """Once a transaction, before its first statement over arrays."""
    if ("plan_cache_mode", "") not in tx.remembered:
        tx.run(PLAN_EACH_RUN)
        tx.remembered[("plan_cache_mode", "")] = "force_custom_plan"


_BACKENDS: dict[str, Batches] = {"sqlite": _RowByRow(), "postgresql": _OverArrays()}


def _batches(tx: Transaction) -> Batches:
    return _BACKENDS[tx.dialect.name]


def connection_back(tx: Transaction, account_id: str, connection_id: int, now_ms: int) -> int:
    """Makes the connection's pending events due now; answers how many were waiting."""
    return tx.execute(_CONNECTION_BACK, {"owner": account_id, "connection_id": connection_id, "now_ms": now_ms})


_BACKLOG = Statement(select(func.count(), func.min(_E.created_ms)).where(_IS_PENDING))


def backlog(tx: Transaction) -> tuple[int, int | None]:
    """How many events wait to be delivered, and when the oldest was written (wall clock)."""
    count, oldest = tx.rows(_BACKLOG)[0]
    return int(count), None if oldest is None else int(oldest)


def _flags(flags: Webhooks) -> Any:
    return literal_column(str(int(flags)))  # a literal, as the constant it is


# The calls whose call.hangup goes out at their expiry: their connection asked for events, they
# were never ended, and their slot has expired since `since_ms` (the index of active calls by
# expiry holds them).
_EXPIRED_WHERE = (call_authorizations.c.ended_ms.is_(None) & (call_authorizations.c.expires_ms <= bindparam("now_ms"))
                  & (call_authorizations.c.expires_ms > bindparam("since_ms"))
                  & call_authorizations.c.webhooks.in_([_flags(Webhooks.EVENTS),
                                                        _flags(Webhooks.EVENTS | Webhooks.COSTS)]))
_EXPIRED = Statement(
    update(call_authorizations)
    .where(_EXPIRED_WHERE)
    .values(webhooks=call_authorizations.c.webhooks + _flags(Webhooks.HANGUP_SENT))
    .returning(call_authorizations.c.account_id,
               *[call_authorizations.c[field.name] for field in fields(Authorization)])
)


_ANY_EXPIRED = Statement(select(exists().where(_EXPIRED_WHERE)))


def any_expired(tx: Transaction, now_ms: int, since_ms: int) -> bool:
    """Whether `expire` would find a call: read first, so that an idle sweep takes no write lock."""
    return bool(tx.rows(_ANY_EXPIRED, {"now_ms": now_ms, "since_ms": since_ms})[0][0])


def expire(tx: Transaction, now_ms: int, since_ms: int) -> Sequence[Any]:
    """Marks the calls with webhooks that expired between `since_ms` and `now_ms` as having sent
    their call.hangup; answers them as (account_id, *Authorization's fields)."""
    return tx.rows(_EXPIRED, {"now_ms": now_ms, "since_ms": since_ms})


_KEY = Statement(select(webhook_keys.c.private_key, webhook_keys.c.public_key)
                 .where(webhook_keys.c.id == literal_column("1")))
_ADD_KEY = Statement(text("INSERT INTO webhook_keys (id, private_key, public_key, created_ms) "
                          "VALUES (1, :private_key, :public_key, :created_ms) ON CONFLICT (id) DO NOTHING"))
_REPLACE_KEY = Statement(update(webhook_keys).where(webhook_keys.c.id == literal_column("1")).values(
    private_key=bindparam("private_key"), public_key=bindparam("public_key"), created_ms=bindparam("created_ms")))


def signing_key(tx: Transaction) -> KeyPair | None:
    found = tx.rows(_KEY)
    return KeyPair(*found[0]) if found else None


def ensure_key(tx: Transaction, candidate: KeyPair, now_ms: int) -> KeyPair:
    """The deployment's key pair: `candidate` if there was none (the first server to start makes
    it; any other started at once keeps the one that server stored)."""
    existing = signing_key(tx)
    if existing is not None:
        return existing
    tx.execute(_ADD_KEY, {"private_key": candidate.private_key, "public_key": candidate.public_key,
                          "created_ms": now_ms})
    found = signing_key(tx)
    assert found is not None
    return found


def replace_key(tx: Transaction, pair: KeyPair, now_ms: int) -> None:
    params = {"private_key": pair.private_key, "public_key": pair.public_key, "created_ms": now_ms}
    if tx.execute(_REPLACE_KEY, params) == 0:
        tx.execute(_ADD_KEY, params)


_DELETE_OF_ACCOUNT = Statement(webhook_events.delete().where(_E.account_id == bindparam("owner")))
_DELETE_ALL = Statement(webhook_events.delete())
_PURGE = Statement(webhook_events.delete().where(~_IS_PENDING & (_E.created_ms < bindparam("before_ms"))))


def delete_account(tx: Transaction, account_id: str) -> int:
    return tx.execute(_DELETE_OF_ACCOUNT, {"owner": account_id})


def delete_everything(tx: Transaction) -> int:
    return tx.execute(_DELETE_ALL)


def purge(tx: Transaction, *, before_ms: int) -> int:
    """Deletes the deliveries, in every account, of events written before `before_ms` that were
    delivered or given up (a pending one is kept, whatever its age); answers how many."""
    return tx.execute(_PURGE, {"before_ms": before_ms})


@dataclass(frozen=True)
class Delivery:
    id: str
    status: str
    payload: str
    created_ms: int
    finished_ms: int | None
    attempts: str  # JSON, newest first


# LIKE's own characters in a filter's text, escaped with "!".
_LIKE_SPECIAL = re.compile(r"[%_!]")
_DELIVERY = [_E.id, _E.status, _E.payload, _E.created_ms, _E.finished_ms, _E.attempts]


def _where(account_id: str, found: DeliveryFilter) -> tuple[ColumnElement[bool], dict[str, Any]]:
    """The filter's condition, and its parameters (Statement takes parameters by name)."""
    params: dict[str, Any] = {"owner": account_id}
    conditions: list[ColumnElement[bool]] = [_E.account_id == bindparam("owner")]

    def add(name: str, value: object, condition: ColumnElement[bool]) -> None:
        params[name] = value
        conditions.append(condition)

    if found.status is not None:
        add("status", found.status, _E.status == bindparam("status"))
    if found.event_types:
        params.update({f"type{index}": name for index, name in enumerate(found.event_types)})
        conditions.append(_E.event_type.in_([bindparam(f"type{index}") for index in range(len(found.event_types))]))
    for name, column, text_ in (("webhook", _E.payload, found.webhook_contains),
                                ("attempts", _E.attempts, found.attempts_contains)):
        if text_ is not None:
            add(name, "%" + _LIKE_SPECIAL.sub(r"!\g<0>", text_) + "%", column.like(bindparam(name), escape="!"))
    for name, column, low, high in (("started", _E.created_ms, found.started_gte, found.started_lte),
                                    ("finished", _E.finished_ms, found.finished_gte, found.finished_lte)):
        if low is not None:
            add(f"{name}_gte", low, column >= bindparam(f"{name}_gte"))
        if high is not None:
            add(f"{name}_lte", high, column <= bindparam(f"{name}_lte"))
    return and_(*conditions), params


def deliveries(tx: Transaction, account_id: str, found: DeliveryFilter, *, limit: int,
               offset: int) -> tuple[list[Delivery], int]:
    """One page of the account's deliveries that pass `found`, newest first, and how many pass."""
    where, params = _where(account_id, found)
    total = int(tx.scalar(Statement(select(func.count()).select_from(webhook_events).where(where)), params))
    if offset >= total:
        return [], total
    page = (select(*_DELIVERY).where(where).order_by(_E.created_ms.desc(), _E.id.desc())
            .limit(bindparam("limit", literal_execute=False)).offset(bindparam("offset", literal_execute=False)))
    rows = tx.rows(Statement(page), {**params, "limit": limit, "offset": offset})
    return [Delivery(*row) for row in rows], total


_ONE_DELIVERY = Statement(select(*_DELIVERY).where((_E.account_id == bindparam("owner"))
                                                   & (_E.id == bindparam("delivery_id"))))


def delivery(tx: Transaction, account_id: str, delivery_id: str) -> Delivery | None:
    found = tx.rows(_ONE_DELIVERY, {"owner": account_id, "delivery_id": delivery_id})
    return Delivery(*found[0]) if found else None


# The account's latest deliveries that were tried, for the admin journal.
_TRIED = Statement(
    select(_E.payload, _E.attempts)
    .where((_E.account_id == bindparam("owner")) & (_E.attempt_count > literal_column("0"))
           & (_E.created_ms >= bindparam("since_ms")))
    .order_by(_E.created_ms.desc()).limit(bindparam("limit", literal_execute=False)).offset(literal_column("0"))
)


def tried(tx: Transaction, account_id: str, since_ms: int, limit: int) -> list[tuple[str, str]]:
    """The event and the attempts (JSON) of the account's latest `limit` deliveries tried, of
    events written since `since_ms`."""
    return [(str(payload), str(attempts)) for payload, attempts in
            tx.rows(_TRIED, {"owner": account_id, "since_ms": since_ms, "limit": limit})]
