"""Reading every decision on record, allowed calls and refusals alike: a page of them newest
first, the chunks of an export, and totals grouped by one of their columns.

An allowed call and a refusal live in tables of their own (see migration 0016); each is read by
one SELECT with the same columns, NULL where a kind has none. Ids are time-ordered
(ovp.domain.ids), so newest first is by id: a page or an export's chunk reads each table's primary
key backwards, as far as it needs, and merges the two; counts and totals are a UNION ALL. A page
sorted by the records' moments (ovp.domain.calls.decisions.Order) reads each table in that order
as far as it needs, and merges the two the same way.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    asc,
    bindparam,
    case,
    cast,
    desc,
    func,
    literal_column,
    null,
    select,
    union_all,
)

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.decisions import DecisionFilter, GroupBy, Moment, Order, Window, moment_of
from ovp.domain.calls.refusal import Refusal
from ovp.store.calls import HOLDING
from ovp.store.database import Statement, Transaction
from ovp.store.schema import call_authorizations, call_refusals

_CALLS = call_authorizations.c
_REFUSALS = call_refusals.c


def _nothing(type_: Any) -> ColumnElement[Any]:
    return cast(null(), type_)


# Each kind's columns, in one order: an allowed call's fields, then a refusal's own. A row reads
# back by its first column, 1 for an allowed call.
_ALLOWED_COLUMNS: list[ColumnElement[Any]] = [
    literal_column("1").label("allowed"), _CALLS.id, _CALLS.profile_id, _CALLS.connection_id,
    _CALLS.billing_group_id, _CALLS.dialled, _CALLS.caller, _CALLS.country, _CALLS.authorized_ms.label("decided_ms"),
    _CALLS.prefix, _CALLS.per_minute, _CALLS.billing_increment, _CALLS.reserved_micros, _CALLS.recording,
    _CALLS.expires_ms, _CALLS.max_duration_secs, _CALLS.answered_ms, _CALLS.ended_ms, _CALLS.duration_secs,
    _CALLS.billed_secs, _CALLS.cost_micros,
    _nothing(Integer).label("sip_status"), _nothing(String).label("code"), _nothing(Text).label("reason"),
]
_REFUSED_COLUMNS: list[ColumnElement[Any]] = [
    literal_column("0"), _REFUSALS.id, _REFUSALS.profile_id, _REFUSALS.connection_id, _REFUSALS.billing_group_id,
    _REFUSALS.dialled, _REFUSALS.caller, _REFUSALS.country, _REFUSALS.decided_ms,
    *(_nothing(type_) for type_ in (String, String, String, BigInteger, Text, BigInteger, Integer, BigInteger,
                                     BigInteger, Integer, Integer, BigInteger)),
    _REFUSALS.sip_status, _REFUSALS.code, _REFUSALS.reason,
]


def _record(row: Sequence[Any]) -> Authorization | Refusal:
    (allowed, call_id, profile_id, connection_id, billing_group_id, dialled, caller, country, decided_ms, prefix,
     per_minute, billing_increment, reserved_micros, recording, expires_ms, max_duration_secs, answered_ms, ended_ms,
     duration_secs, billed_secs, cost_micros, sip_status, code, reason) = row
    if allowed:
        return Authorization(call_id, profile_id, connection_id, dialled, caller, country, prefix, per_minute,
                             billing_increment, reserved_micros, recording, decided_ms, expires_ms,
                             max_duration_secs, answered_ms, ended_ms, duration_secs, billed_secs, cost_micros,
                             billing_group_id)
    return Refusal(call_id, profile_id, connection_id, billing_group_id, dialled, caller, country, sip_status, code,
                   reason, decided_ms)


def _bounds(window: Window | None) -> tuple[bool, bool]:
    return (False, False) if window is None else (window.low_ms is not None, window.high_ms is not None)


@dataclass(frozen=True)
class _Shape:
    """What a statement's WHERE clauses test: which filters are set, not their values, so that
    one statement, compiled once, serves every query of the same shape."""

    allowed_ones: bool
    refused_ones: bool
    status: str | None
    code: bool
    profile: bool
    connection: bool
    billing_group: bool
    since: bool
    until: bool
    finished_only: bool = False
    record: bool = False
    caller: bool = False
    dialled: bool = False
    answered: tuple[bool, bool] = (False, False)  # a low bound, a high bound
    finished: tuple[bool, bool] = (False, False)
    after_id: bool = False  # keyset: only ids below :before_id

    @classmethod
    def of(cls, found: DecisionFilter, *, keyset: bool = False) -> _Shape:
        return cls(found.allowed_ones, found.refused_ones, found.status, found.code is not None,
                   found.profile_id is not None, found.connection_id is not None, found.billing_group_id is not None,
                   found.since_ms is not None, found.until_ms is not None, found.finished_only,
                   found.record_id is not None, found.caller is not None, found.dialled is not None,
                   _bounds(found.answered), _bounds(found.finished), keyset)


def _params(account_id: str, found: DecisionFilter, now_ms: int) -> dict[str, Any]:
    answered, finished = found.answered or Window(), found.finished or Window()
    return {"owner": account_id, "code": found.code, "profile_id": found.profile_id,
            "connection_id": found.connection_id, "billing_group_id": found.billing_group_id,
            "since_ms": found.since_ms, "until_ms": found.until_ms, "now_ms": now_ms, "record_id": found.record_id,
            "caller": found.caller, "dialled": found.dialled, "answered_low": answered.low_ms,
            "answered_high": answered.high_ms, "finished_low": finished.low_ms, "finished_high": finished.high_ms}


# An allowed call has finished once it ended, or expired unended.
_FINISHED = _CALLS.ended_ms.is_not(None) | (_CALLS.expires_ms <= bindparam("now_ms"))
# Each moment of a record (ovp.domain.calls.decisions.moment_of), of an allowed call and of a refusal.
_MOMENTS: dict[Moment, tuple[ColumnElement[Any], ColumnElement[Any]]] = {
    "started": (_CALLS.authorized_ms, _REFUSALS.decided_ms),
    "answered": (_CALLS.answered_ms, _nothing(BigInteger)),
    "finished": (func.coalesce(_CALLS.ended_ms, _CALLS.expires_ms), _REFUSALS.decided_ms),
}


def _status_test(status: str) -> ColumnElement[bool]:
    return {
        "ended": _CALLS.ended_ms.is_not(None),
        "expired": _CALLS.ended_ms.is_(None) & (_CALLS.expires_ms <= bindparam("now_ms")),
        "ringing": HOLDING & _CALLS.answered_ms.is_(None),
        "active": HOLDING & _CALLS.answered_ms.is_not(None),
    }[status]


def _in_window(column: ColumnElement[Any], bounds: tuple[bool, bool], name: str) -> list[ColumnElement[bool]]:
    low, high = bounds
    return ([column >= bindparam(f"{name}_low")] if low else []) + (
        [column < bindparam(f"{name}_high")] if high else [])


def _where(shape: _Shape, table: Any, allowed: bool) -> ColumnElement[bool]:
    columns = table.c
    side = 0 if allowed else 1
    test: ColumnElement[bool] = columns.account_id == bindparam("owner")
    for present, column, name in ((shape.profile, columns.profile_id, "profile_id"),
                                  (shape.connection, columns.connection_id, "connection_id"),
                                  (shape.billing_group, columns.billing_group_id, "billing_group_id"),
                                  (shape.record, columns.id, "record_id"),
                                  (shape.caller, columns.caller, "caller"),
                                  (shape.dialled, columns.dialled, "dialled")):
        if present:
            test = test & (column == bindparam(name))
    started = _MOMENTS["started"][side]
    if shape.since:
        test = test & (started >= bindparam("since_ms"))
    if shape.until:
        test = test & (started < bindparam("until_ms"))
    for within in _in_window(_MOMENTS["finished"][side], shape.finished, "finished"):
        test = test & within
    if shape.after_id:
        test = test & (columns.id < bindparam("before_id"))
    return test


def _branches(shape: _Shape, allowed_columns: Sequence[ColumnElement[Any]],
              refused_columns: Sequence[ColumnElement[Any]]) -> list[Select[Any]]:
    branches = []
    if shape.allowed_ones:
        where = _where(shape, call_authorizations, allowed=True)
        if shape.status is not None:
            where = where & _status_test(shape.status)
        if shape.finished_only:
            where = where & _FINISHED
        for within in _in_window(_CALLS.answered_ms, shape.answered, "answered"):
            where = where & within
        branches.append(select(*allowed_columns).where(where))
    if shape.refused_ones:
        where = _where(shape, call_refusals, allowed=False)
        if shape.code:
            where = where & (_REFUSALS.code == bindparam("code"))
        branches.append(select(*refused_columns).where(where))
    return branches


def _ordered(branch: Select[Any], order: tuple[Order, ...], allowed: bool) -> Statement:
    """A branch's rows in `order`, up to :limit; without an order, newest first: its table's
    primary key read backwards. Ties go by id, in the direction of the first key."""
    keys = [(_MOMENTS[key.moment][0 if allowed else 1], key.descending) for key in order]
    by_id: ColumnElement[Any] = desc("id") if not order or order[0].descending else asc("id")
    columns = [(column.desc() if descending else column.asc()).nulls_last() for column, descending in keys]
    # An offset of its own: SQLite's LIMIT would bind another.
    return Statement(branch.order_by(*columns, by_id).limit(bindparam("limit", literal_execute=False))
                     .offset(literal_column("0")))


@cache
def _branch_statements(shape: _Shape, order: tuple[Order, ...] = ()) -> list[Statement]:
    """Each table's rows in order: merged here, since PostgreSQL sorts every row of a UNION ALL
    before it can order it (it made no Merge Append of the two primary keys), and a page or a chunk
    newest first then cost as much as the account's whole history."""
    branches = _branches(shape, _ALLOWED_COLUMNS, _REFUSED_COLUMNS)
    sides = [allowed for allowed, present in ((True, shape.allowed_ones), (False, shape.refused_ones)) if present]
    return [_ordered(branch, order, allowed) for branch, allowed in zip(branches, sides, strict=True)]


Record = Authorization | Refusal


def _sort_key(order: tuple[Order, ...]) -> Callable[[Record], tuple[int, ...]]:
    """What the statements of `_ordered` sort by, as a key that sorts the same way ascending."""
    sign = -1 if not order or order[0].descending else 1

    def key(record: Record) -> tuple[int, ...]:
        parts: list[int] = []
        for each in order:
            value = moment_of(record, each.moment)
            parts += [1, 0] if value is None else [0, -value if each.descending else value]
        return (*parts, sign * record.id)

    return key


def _merged(tx: Transaction, shape: _Shape, params: dict[str, Any], limit: int,
            order: tuple[Order, ...] = ()) -> list[Record]:
    """The first `limit` records of both tables in `order` (newest first without one)."""
    runs = [[_record(row) for row in tx.rows(statement, {**params, "limit": limit})]
            for statement in _branch_statements(shape, order)]
    return list(itertools.islice(heapq.merge(*runs, key=_sort_key(order)), limit))


@cache
def _count_statement(shape: _Shape) -> Statement:
    one: list[ColumnElement[Any]] = [literal_column("1")]
    counts = [select(func.count()).select_from(branch.subquery()).scalar_subquery()
              for branch in _branches(shape, one, one)]
    total: ColumnElement[Any] = counts[0]
    for count in counts[1:]:
        total = total + count
    return Statement(select(total))


def page(tx: Transaction, account_id: str, found: DecisionFilter, now_ms: int, *, limit: int,
         offset: int, order: tuple[Order, ...] = ()) -> tuple[list[Record], int]:
    """One page of the account's call records that pass `found`, in `order` (newest first without
    one), and how many pass (several statements: a read's snapshot)."""
    shape = _Shape.of(found)
    if not (shape.allowed_ones or shape.refused_ones):
        return [], 0
    params = _params(account_id, found, now_ms)
    total = int(tx.scalar(_count_statement(shape), params))
    if offset >= total:
        return [], total
    return _merged(tx, shape, params, offset + limit, order)[offset:], total


def chunk(tx: Transaction, account_id: str, found: DecisionFilter, now_ms: int, *, before_id: int | None,
          limit: int) -> list[Record]:
    """Up to `limit` of the account's call records that pass `found`, newest first, from the one
    after `before_id` (None: from the newest): an export reads them chunk by chunk, each a short
    read of its own, and never sees one twice."""
    shape = _Shape.of(found, keyset=before_id is not None)
    if not (shape.allowed_ones or shape.refused_ones):
        return []
    return _merged(tx, shape, {**_params(account_id, found, now_ms), "before_id": before_id}, limit)


@dataclass(frozen=True)
class Totals:
    group: str | int | None
    calls: int
    allowed: int
    refused: int
    billed_secs: int
    cost_micros: int


_GROUP_COLUMNS = {
    "outbound_voice_profile_id": (_CALLS.profile_id, _REFUSALS.profile_id),
    "connection_id": (_CALLS.connection_id, _REFUSALS.connection_id),
    "billing_group_id": (_CALLS.billing_group_id, _REFUSALS.billing_group_id),
    "country_code": (_CALLS.country, _REFUSALS.country),
    "code": (_nothing(String), _REFUSALS.code),
}


@cache
def _report_statement(shape: _Shape, group_by: GroupBy) -> Statement:
    allowed_key, refused_key = _GROUP_COLUMNS[group_by]
    zero: ColumnElement[Any] = literal_column("0")
    allowed_columns = [allowed_key.label("grouped"), literal_column("1").label("allowed"),
                       func.coalesce(_CALLS.billed_secs, zero).label("billed_secs"),
                       func.coalesce(_CALLS.cost_micros, zero).label("cost_micros")]
    refused_columns = [refused_key.label("grouped"), zero.label("allowed"), zero.label("billed_secs"),
                       zero.label("cost_micros")]
    branches = _branches(shape, allowed_columns, refused_columns)
    rows = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery()
    calls = func.count()
    return Statement(
        select(rows.c.grouped, calls, func.sum(rows.c.allowed), func.sum(rows.c.billed_secs),
               func.sum(rows.c.cost_micros))
        .group_by(rows.c.grouped)
        # The largest groups first; a group without a value (calls of no connection) last among equals.
        .order_by(desc(calls), case((rows.c.grouped.is_(None), literal_column("1")), else_=literal_column("0")),
                  rows.c.grouped)
    )


def report(tx: Transaction, account_id: str, found: DecisionFilter, group_by: GroupBy, now_ms: int) -> list[Totals]:
    """The totals of the account's call records that pass `found`, one per value of `group_by`."""
    shape = _Shape.of(found)
    if not (shape.allowed_ones or shape.refused_ones):
        return []
    rows = tx.rows(_report_statement(shape, group_by), _params(account_id, found, now_ms))
    return [Totals(grouped, int(calls), int(allowed), int(calls) - int(allowed), int(billed), int(cost))
            for grouped, calls, allowed, billed, cost in rows]
