"""The five credential connection operations. Each runs inside the transaction its caller opened,
and answers the connection as the API shows it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ovp.domain import connection as rules
from ovp.domain.clock import now_timestamp
from ovp.domain.connection import ConnectionDocument
from ovp.domain.connection_listing import ConnectionListQuery
from ovp.domain.errors import InvalidInput, Problem
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.ids import IdGenerator
from ovp.domain.listing import PageMeta
from ovp.domain.validation import BAD_VALUE
from ovp.services.creating import with_new_id
from ovp.store import connections as store
from ovp.store import profiles as profile_store
from ovp.store.database import Transaction

PROFILE_POINTER = "/outbound/outbound_voice_profile_id"


def _shown(connection: Revised[ConnectionDocument], *, reveal_password: bool = False) -> Revised[dict[str, Any]]:
    return Revised(rules.wire_view(connection.value, reveal_password=reveal_password), connection.revision)


def check_profile(tx: Transaction, account_id: str, connection: Mapping[str, Any]) -> None:
    """The connection's outbound profile must be one of the account's. The check locks the profile,
    so that it cannot be deleted before this transaction has stored the connection."""
    profile_id = rules.outbound_profile_id(connection)
    if profile_id is not None and not profile_store.lock_for_reference(tx, account_id, profile_id):
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, f"outbound.outbound_voice_profile_id: the account has no outbound "
                                    f"voice profile {profile_id}.", pointer=PROFILE_POINTER)])


def user_name_problem(tx: Transaction, account_id: str, connection: ConnectionDocument) -> str | None:
    """Why the connection cannot have its user_name: another of the account's connections has it,
    in any case (a switch finds a SIP caller's connection by it)."""
    holder = store.by_user_name(tx, account_id, connection["user_name"])
    if holder is None or holder[0] == int(connection["id"]):
        return None
    return f"user_name: {connection['user_name']!r} is taken by the account's connection {holder[0]}."


def _check_user_name(tx: Transaction, account_id: str, connection: ConnectionDocument) -> None:
    problem = user_name_problem(tx, account_id, connection)
    if problem is not None:
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, problem, pointer="/user_name")])


def create(tx: Transaction, account_id: str, body: object, ids: IdGenerator) -> Revised[dict[str, Any]]:
    changes = rules.parse_new(body)
    now = now_timestamp()

    def insert(connection_id: int) -> Revised[ConnectionDocument]:
        connection = rules.apply_changes(rules.new_connection(connection_id, now), changes, now)
        check_profile(tx, account_id, connection)
        _check_user_name(tx, account_id, connection)
        return store.credentials.insert(tx, account_id, connection)

    return _shown(with_new_id(ids, insert), reveal_password=True)


def retrieve(tx: Transaction, account_id: str, connection_id: int) -> Revised[dict[str, Any]]:
    return _shown(store.credentials.get(tx, account_id, connection_id))


def update(
    tx: Transaction, account_id: str, connection_id: int, body: object, if_match: str | None = None
) -> Revised[dict[str, Any]]:
    current = store.credentials.get(tx, account_id, connection_id, for_update=True)
    check_if_match(if_match, current)
    changes = rules.parse_changes(body)
    connection = rules.apply_changes(current.value, changes, now_timestamp())
    if rules.outbound_profile_id(connection) != rules.outbound_profile_id(current.value):
        check_profile(tx, account_id, connection)
    _check_user_name(tx, account_id, connection)
    password_changed = connection["password"] != current.value["password"]
    return _shown(store.credentials.replace(tx, account_id, current, connection), reveal_password=password_changed)


def delete(
    tx: Transaction, account_id: str, connection_id: int, if_match: str | None = None
) -> Revised[dict[str, Any]]:
    """Answers the connection as it was."""
    current = store.credentials.get(tx, account_id, connection_id, for_update=True)
    check_if_match(if_match, current)
    store.credentials.delete(tx, account_id, current)
    return _shown(current)


def list_page(
    tx: Transaction, account_id: str, query: ConnectionListQuery
) -> tuple[list[dict[str, Any]], PageMeta]:
    page, total = store.list_page(tx, account_id, query, rules.RECORD_TYPE)
    return [rules.wire_view(cast(ConnectionDocument, connection)) for connection in page], PageMeta.of(query.page,
                                                                                                      total)
