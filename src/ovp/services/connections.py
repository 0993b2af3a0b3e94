"""Connections of every kind, declared: SIP connections (credential, IP, FQDN) and applications (Call
Control, TeXML), which Telnyx counts among connections. A connection's outbound profile must be one
of the account's (locked while the write commits, so that it cannot be deleted meanwhile); a
credential connection's user name, and an FQDN connection's if it has one, is no other connection's
of the account; an IP or FQDN connection's addresses go with it, and a credential connection's
SIP registrations."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ovp.domain.connections import call_control_application as call_control_rules
from ovp.domain.connections import credential_connection as credential_rules
from ovp.domain.connections import fqdn_connection as fqdn_rules
from ovp.domain.connections import ip_connection as ip_rules
from ovp.domain.connections import texml_application as texml_rules
from ovp.domain.connections.credential_connection import ConnectionDocument, outbound_profile_id
from ovp.domain.connections.listing import (
    ConnectionListQuery,
    parse_call_control_application_list_query,
    parse_connection_list_query,
    parse_texml_application_list_query,
)
from ovp.domain.errors import InvalidInput, Problem
from ovp.domain.validation import BAD_VALUE
from ovp.services.resources import Hooks, Resource
from ovp.store import connections as store
from ovp.store import fqdns as fqdn_store
from ovp.store import ips as ip_store
from ovp.store import profiles as profile_store
from ovp.store import registrations as registration_store
from ovp.store.database import Transaction

PROFILE_POINTER = "/outbound/outbound_voice_profile_id"
Document = dict[str, Any]


def check_profile(tx: Transaction, account_id: str, connection: Mapping[str, Any],
                  previous: Mapping[str, Any] | None) -> None:
    """A connection's outbound profile, when new or changed, must be one of the account's. The check
    locks the profile, so that it cannot be deleted before this transaction has stored the connection
    (and changed its connections_count). A connection moved from one profile to another locks both,
    the lower id first, so that two moves the opposite ways never wait for each other."""
    profile_id = outbound_profile_id(connection)
    was = outbound_profile_id(previous) if previous is not None else None
    if profile_id is None or was == profile_id:
        return
    for locked in sorted({profile_id} if was is None else {profile_id, was}):
        if not profile_store.lock_for_reference(tx, account_id, locked) and locked == profile_id:
            code, title = BAD_VALUE
            raise InvalidInput([Problem(code, title, f"outbound.outbound_voice_profile_id: the account has no "
                                        f"outbound voice profile {profile_id}.", pointer=PROFILE_POINTER)])


def user_name_problem(tx: Transaction, account_id: str, connection: Mapping[str, Any]) -> str | None:
    """Why the connection cannot have its user_name: another of the account's connections, of any
    kind, has it, in any case (a switch finds a SIP caller's connection by it)."""
    user_name = connection["user_name"]
    holder = None if user_name is None else store.by_user_name(tx, account_id, user_name)
    if holder is None or holder[0] == int(connection["id"]):
        return None
    return f"user_name: {user_name!r} is taken by the account's connection {holder[0]}."


def _check_named(tx: Transaction, account_id: str, connection: Mapping[str, Any],
                 previous: Mapping[str, Any] | None) -> None:
    """A credential or FQDN connection: its profile, and its user name if it has one."""
    check_profile(tx, account_id, connection, previous)
    problem = user_name_problem(tx, account_id, connection)
    if problem is not None:
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, problem, pointer="/user_name")])


def _drop_registrations(tx: Transaction, account_id: str, connection: Mapping[str, Any]) -> None:
    """A credential connection's SIP registrations go with it."""
    registration_store.unbind(tx, account_id, int(connection["id"]), None)


def delete_addresses(tx: Transaction, account_id: str, connection: Mapping[str, Any]) -> None:
    """An IP or FQDN connection's IPs and FQDNs go with it."""
    ip_store.delete_of_connection(tx, account_id, int(connection["id"]))
    fqdn_store.delete_of_connection(tx, account_id, int(connection["id"]))


def delete_dependents(tx: Transaction, account_id: str, connection: Mapping[str, Any]) -> None:
    """What goes with a connection of any kind (a seed replaces one of another kind by its id)."""
    delete_addresses(tx, account_id, connection)
    _drop_registrations(tx, account_id, connection)


credential_connections = Resource[ConnectionDocument, int, ConnectionListQuery](
    credential_rules.KIND, store.credential_connections, parse_connection_list_query,
    store.finder(credential_rules.RECORD_TYPE, store.credential_connections),
    Hooks(check=_check_named, before_delete=_drop_registrations),
)
# IP and FQDN connections are SIP trunks: the same rules, each kind with its own fields and addresses.
ip_connections = Resource[Document, int, ConnectionListQuery](
    ip_rules.KIND, store.ip_connections, parse_connection_list_query,
    store.finder(ip_rules.RECORD_TYPE, store.ip_connections),
    Hooks(check=check_profile, before_delete=delete_addresses),
)
fqdn_connections = Resource[Document, int, ConnectionListQuery](
    fqdn_rules.KIND, store.fqdn_connections, parse_connection_list_query,
    store.finder(fqdn_rules.RECORD_TYPE, store.fqdn_connections),
    Hooks(check=_check_named, before_delete=delete_addresses),
)
# Applications: a profile and nothing else of the account's to check.
call_control_applications = Resource[Document, int, ConnectionListQuery](
    call_control_rules.KIND, store.call_control_applications, parse_call_control_application_list_query,
    store.finder(call_control_rules.RECORD_TYPE, store.call_control_applications), Hooks(check=check_profile),
)
texml_applications = Resource[Document, int, ConnectionListQuery](
    texml_rules.KIND, store.texml_applications, parse_texml_application_list_query,
    store.finder(texml_rules.RECORD_TYPE, store.texml_applications), Hooks(check=check_profile),
)
