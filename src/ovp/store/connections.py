"""Queries on connections, of every kind. Every one is scoped to an account."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeVar, cast

from sqlalchemy import ColumnElement, bindparam, func, select

from ovp.domain.connections.call_control_application import RECORD_TYPE as CALL_CONTROL_APPLICATION
from ovp.domain.connections.credential_connection import RECORD_TYPE as CREDENTIAL
from ovp.domain.connections.credential_connection import ConnectionDocument, OutboundDocument, outbound_profile_id
from ovp.domain.connections.fqdn_connection import RECORD_TYPE as FQDN_CONNECTION
from ovp.domain.connections.ip_connection import RECORD_TYPE as IP_CONNECTION
from ovp.domain.connections.listing import NAME_SORTS, ConnectionListQuery
from ovp.domain.connections.summary import name_of
from ovp.domain.connections.texml_application import RECORD_TYPE as TEXML_APPLICATION
from ovp.domain.errors import NotFound
from ovp.domain.webhooks.events import Webhooks, wanted
from ovp.store import accounts as account_store
from ovp.store import documents
from ovp.store.database import Statement, Transaction
from ovp.store.profiles import CONNECTIONS_COUNTER
from ovp.store.schema import accounts, connections, fqdns

_COLUMNS = connections.c


def fold_user_name(user_name: str) -> str:
    """User names are told apart without regard to case (they are ASCII letters and digits)."""
    return user_name.lower()


def _columns(connection: Mapping[str, Any]) -> dict[str, Any]:
    name = name_of(connection)
    user_name = connection.get("user_name")  # a credential connection's, or an FQDN connection's if set
    return {
        "record_type": connection["record_type"],
        "connection_name": name,
        "connection_name_folded": name.casefold(),  # as profiles' name_folded
        "active": connection["active"],
        "outbound_voice_profile_id": outbound_profile_id(connection),
        "user_name_folded": None if user_name is None else fold_user_name(user_name),
        "created_at": connection["created_at"],
        "updated_at": connection["updated_at"],
    }


# insert, get, replace, delete, delete_account and delete_everything, as for every table of documents:
# one for each kind of connection, and one that finds a connection of any kind.
credential_connections = documents.DocumentTable[ConnectionDocument](
    connections, _columns, counts_in=CONNECTIONS_COUNTER, kind=CREDENTIAL)
ip_connections = documents.DocumentTable[dict[str, Any]](
    connections, _columns, counts_in=CONNECTIONS_COUNTER, kind=IP_CONNECTION)
fqdn_connections = documents.DocumentTable[dict[str, Any]](
    connections, _columns, counts_in=CONNECTIONS_COUNTER, kind=FQDN_CONNECTION)
call_control_applications = documents.DocumentTable[dict[str, Any]](
    connections, _columns, counts_in=CONNECTIONS_COUNTER, kind=CALL_CONTROL_APPLICATION)
texml_applications = documents.DocumentTable[dict[str, Any]](
    connections, _columns, counts_in=CONNECTIONS_COUNTER, kind=TEXML_APPLICATION)
any_kind = documents.DocumentTable[dict[str, Any]](connections, _columns, counts_in=CONNECTIONS_COUNTER)


@cache
def _count_statement(profiles: int) -> Statement:
    """How many of the account's connections use each of `profiles` profiles (ids p0, p1, ...)."""
    profile = _COLUMNS.outbound_voice_profile_id
    return Statement(
        select(profile, func.count())
        .where((_COLUMNS.account_id == bindparam("owner")) & profile.in_([bindparam(f"p{i}") for i in range(profiles)]))
        .group_by(profile)
    )


def count_by_profile(tx: Transaction, account_id: str, profile_ids: Sequence[int]) -> dict[int, int]:
    """How many of the account's connections use each profile, in one grouped query; a profile
    that none uses is left out."""
    if not profile_ids:
        return {}
    params: dict[str, Any] = {f"p{i}": profile_id for i, profile_id in enumerate(profile_ids)}
    rows = tx.rows(_count_statement(len(profile_ids)), {"owner": account_id, **params})
    return {int(profile_id): int(count) for profile_id, count in rows}


_BY_KIND = Statement(
    select(_COLUMNS.record_type, func.count()).where(_COLUMNS.account_id == bindparam("owner"))
    .group_by(_COLUMNS.record_type)
)


def count_by_kind(tx: Transaction, account_id: str) -> dict[str, int]:
    """How many connections the account has of each record_type it has any of."""
    return {str(kind): int(count) for kind, count in tx.rows(_BY_KIND, {"owner": account_id})}


_CALLING = Statement(
    select(_COLUMNS.outbound_voice_profile_id, _COLUMNS.active, _COLUMNS.document,
           select(accounts.c.channel_limit).where(accounts.c.account_id == bindparam("owner")).scalar_subquery())
    .where((_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.id == bindparam("connection_id")))
)


@dataclass(frozen=True)
class Calling:
    """What a call through a connection needs of it, and of its account, read in one statement."""

    profile_id: int | None
    active: bool
    outbound: OutboundDocument
    account_channel_limit: int | None
    webhooks: Webhooks = Webhooks.NONE  # what the calls through it send


def calling_through(tx: Transaction, account_id: str, connection_id: int) -> Calling:
    """The account's connection as a call through it needs it; NotFound without the connection.

    Read once a transaction: a group's calls through one connection share the read, where each
    was a round trip of its own on PostgreSQL (a switch's calls mostly come through a few trunks).
    A write of any connection in the transaction forgets it (DocumentTable's writes), and the
    account's limit is the one the transaction knows now (ovp.store.accounts)."""
    key = (connections.name, f"calling {account_id} {connection_id}")
    known: Calling | None = tx.remembered.get(key)
    if known is not None:
        return dataclasses.replace(known, account_channel_limit=account_store.channel_limit(tx, account_id))
    found = tx.rows(_CALLING, {"owner": account_id, "connection_id": connection_id})
    if not found:
        raise NotFound()
    profile_id, active, document, account_limit = found[0]
    connection = documents.load(document)
    calling = Calling(None if profile_id is None else int(profile_id), bool(active), connection["outbound"],
                      None if account_limit is None else int(account_limit),
                      wanted(connection.get("webhook_event_url"), bool(connection.get("call_cost_in_webhooks"))))
    tx.remembered[key] = calling
    account_store.remember_channel_limit(tx, account_id, calling.account_channel_limit)
    return calling


_BY_USER_NAME = Statement(
    select(_COLUMNS.id, _COLUMNS.document)
    .where((_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.user_name_folded == bindparam("folded")))
)


def by_user_name(tx: Transaction, account_id: str, user_name: str) -> tuple[int, dict[str, Any]] | None:
    """The account's connection of any kind whose user_name is `user_name`, whatever its case; None
    when none."""
    found = tx.rows(_BY_USER_NAME, {"owner": account_id, "folded": fold_user_name(user_name)})
    if not found:
        return None
    return int(found[0][0]), documents.load(found[0][1])


def credential_by_user_name(tx: Transaction, account_id: str,
                            user_name: str) -> tuple[int, ConnectionDocument] | None:
    """The account's credential connection whose user_name is `user_name`, whatever its case; None
    when none (an FQDN connection's user name is the account's too, but a switch does not
    authenticate its callers)."""
    found = by_user_name(tx, account_id, user_name)
    if found is None or found[1]["record_type"] != CREDENTIAL:
        return None
    return found[0], cast(ConnectionDocument, found[1])


_SORT_COLUMNS: dict[str, ColumnElement[Any]] = {"created_at": _COLUMNS.created_at, "active": _COLUMNS.active}


@cache
def _list_statements(
    dialect: str, kind_filtered: bool, name_filtered: bool, profile_filtered: bool, fqdn_filtered: bool,
    sort_field: str, descending: bool
) -> tuple[Statement, Statement]:
    """The count and page queries for one shape of list request."""
    condition = _COLUMNS.account_id == bindparam("owner")
    if kind_filtered:
        condition = condition & (_COLUMNS.record_type == bindparam("kind"))
    if fqdn_filtered:  # the connections that have an FQDN equal to the filter's
        condition = condition & _COLUMNS.id.in_(
            select(fqdns.c.connection_id).where((fqdns.c.account_id == bindparam("owner"))
                                                & (fqdns.c.fqdn == bindparam("fqdn"))))
    if name_filtered:
        condition = condition & documents.contains(_COLUMNS.connection_name_folded)
    if profile_filtered:
        condition = condition & (_COLUMNS.outbound_voice_profile_id == bindparam("profile_id"))
    sort_column = (
        documents.folded_order(_COLUMNS.connection_name_folded, dialect) if sort_field in NAME_SORTS
        else _SORT_COLUMNS[sort_field]
    )
    return any_kind.page_statements(condition, sort_column, descending)


def list_page(
    tx: Transaction, account_id: str, query: ConnectionListQuery, kind: str | None
) -> tuple[list[tuple[dict[str, Any], int]], int]:
    """One page of the connections of one kind (None: of every kind) and the total that match, read
    in one transaction so they agree. Only an FQDN connection has FQDNs, so a filter by FQDN finds
    no connection of the other kinds."""
    page = query.page
    statements = _list_statements(tx.dialect.name, kind is not None, page.name_contains is not None,
                                  query.profile_id is not None, query.fqdn is not None, page.sort_field,
                                  page.descending)
    params: dict[str, Any] = {"owner": account_id, "kind": kind, "fqdn": query.fqdn}
    if page.name_contains is not None:
        params["pattern"] = documents.contains_pattern(page.name_contains)
    if query.profile_id is not None:
        params["profile_id"] = query.profile_id
    return any_kind.read_page(tx, statements, params, page)


C = TypeVar("C", bound=Mapping[str, Any])
Found = tuple[list[tuple[C, int]], int]


def finder(kind: str, _table: documents.DocumentTable[C]) -> Callable[[Transaction, str, ConnectionListQuery],
                                                                      Found[C]]:
    """list_page for the connections of one kind: those of `_table`, typed as its documents."""

    def find(tx: Transaction, account_id: str, query: ConnectionListQuery) -> Found[C]:
        return cast(Found[C], list_page(tx, account_id, query, kind))

    return find
