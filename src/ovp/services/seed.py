"""Seeding: resources given in the shape the API answers with, ids kept, checked as strictly as the
API checks them.

    {"data": [profile, ...], "credential_connections": [connection, ...], "billing_groups": [group, ...]}

`data` (or `outbound_voice_profiles`) holds profiles, `credential_connections` credential connections
(with their `password`), `ip_connections` IP connections (a connection of either kind naming in
`outbound.outbound_voice_profile_id` a profile of the seed or of the account; an id once across
both lists), `billing_groups` billing groups (their ids UUIDs). Timestamps must be real ones; an
id given twice is refused at each place. A seed stores all of itself or nothing: a problem anywhere
is a 422 that lists every problem with its pointer. A resource of the account with a seeded id is
replaced; a connection's user_name must not be another of the account's connections' (in any case).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from ovp.domain import billing_group as billing_group_rules
from ovp.domain import connection as connection_rules
from ovp.domain import fqdn as fqdn_rules
from ovp.domain import fqdn_connection as fqdn_connection_rules
from ovp.domain import ip as ip_rules
from ovp.domain import ip_connection as ip_connection_rules
from ovp.domain import profile as profile_rules
from ovp.domain.billing_group import parse_group_id
from ovp.domain.clock import now_timestamp
from ovp.domain.connection import ConnectionDocument
from ovp.domain.errors import InvalidInput, NotFound, Problem, ProblemList
from ovp.domain.fqdn import FqdnDocument
from ovp.domain.ids import parse_id
from ovp.domain.ip import IpDocument
from ovp.domain.validation import BAD_VALUE, WRONG_TYPE
from ovp.services import connections as connection_service
from ovp.services import fqdns as fqdn_service
from ovp.services import ips as ip_service
from ovp.store import billing_groups as billing_group_store
from ovp.store import connections as connection_store
from ovp.store import fqdns as fqdn_store
from ovp.store import ips as ip_store
from ovp.store import profiles as profile_store
from ovp.store.database import Transaction
from ovp.store.documents import DocumentTable

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
PROFILE_LISTS = ("data", "outbound_voice_profiles")
CONNECTIONS = "credential_connections"
IP_CONNECTIONS = "ip_connections"
FQDN_CONNECTIONS = "fqdn_connections"
IPS = "ips"
FQDNS = "fqdns"
BILLING_GROUPS = "billing_groups"
SEEDED_LISTS = (*PROFILE_LISTS, CONNECTIONS, IP_CONNECTIONS, FQDN_CONNECTIONS, IPS, FQDNS, BILLING_GROUPS)


@dataclass(frozen=True)
class Loaded:
    profiles: int
    connections: int
    billing_groups: int
    ips: int
    fqdns: int


@dataclass(frozen=True)
class IdKind:
    """How a seeded resource's id is read, and what a bad one is told."""

    parse: Callable[[str], Any]
    expected: str


NUMERIC_ID = IdKind(parse_id, "id must be a numeric string such as '1293384261075731499'.")
UUID_ID = IdKind(parse_group_id, "id must be a UUID such as 'f5586561-8ff0-4291-a0ac-84fe544797bd'.")


def _problem(kind: tuple[str, str], detail: str, pointer: str) -> Problem:
    code, title = kind
    return Problem(code, title, detail, pointer=pointer)


def _is_timestamp(value: object) -> bool:
    if not isinstance(value, str) or not TIMESTAMP.fullmatch(value):
        return False
    try:  # the shape alone lets 2026-13-01 through
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def _timestamp(item: dict[str, Any], field: str, default: str, at: str, problems: ProblemList) -> str:
    value = item.get(field, default)
    if not _is_timestamp(value):
        problems.add(_problem(BAD_VALUE, f"{field} must be a real time such as 2018-02-02T22:25:27.521Z.",
                              f"{at}/{field}"))
        return default
    return str(value)


def _items(seed: dict[str, Any], key: str, problems: ProblemList) -> list[tuple[str, object]]:
    items = seed.get(key, [])
    if not isinstance(items, list):
        problems.add(_problem(WRONG_TYPE, f"{key} must be a list.", f"/{key}"))
        return []
    return [(f"/{key}/{index}", item) for index, item in enumerate(items)]


Build = Callable[[Any, dict[str, Any], str, str], dict[str, Any]]


def _documents(items: list[tuple[str, object]], build: Build, problems: ProblemList,
               ids: IdKind = NUMERIC_ID) -> list[dict[str, Any]]:
    """Each item checked and made the document the API would store; a repeated id refused at every place."""
    documents: list[dict[str, Any]] = []
    places: dict[Any, list[str]] = {}
    now = now_timestamp()
    for at, item in items:
        if not isinstance(item, dict):
            problems.add(_problem(WRONG_TYPE, "Each seeded resource must be a JSON object.", at))
            continue
        resource_id = ids.parse(str(item.get("id", "")))
        if resource_id is None:
            problems.add(_problem(BAD_VALUE, ids.expected, f"{at}/id"))
            continue
        places.setdefault(resource_id, []).append(at)
        created_at = _timestamp(item, "created_at", now, at, problems)
        updated_at = _timestamp(item, "updated_at", created_at, at, problems)
        try:
            documents.append(build(resource_id, item, created_at, updated_at))
        except InvalidInput as error:
            for problem in error.problems:
                problems.add(Problem(problem.code, problem.title, problem.detail, pointer=at + (problem.pointer or "")))
    for resource_id, seen in places.items():
        for at in seen[1:] if len(seen) > 1 else []:
            problems.add(_problem(BAD_VALUE, f"The id {resource_id} is seeded more than once (first at {seen[0]}).",
                                  f"{at}/id"))
    return documents


def _profile(profile_id: int, item: dict[str, Any], created_at: str, updated_at: str) -> dict[str, Any]:
    changes = profile_rules.parse_changes(item)
    return dict(profile_rules.apply_changes(profile_rules.new_profile(profile_id, created_at), changes, updated_at))


def _connection(connection_id: int, item: dict[str, Any], created_at: str, updated_at: str) -> dict[str, Any]:
    changes = connection_rules.parse_new(item)
    new = connection_rules.new_connection(connection_id, created_at)
    return dict(connection_rules.apply_changes(new, changes, updated_at))


def _ip_connection(connection_id: int, item: dict[str, Any], created_at: str, updated_at: str) -> dict[str, Any]:
    changes = ip_connection_rules.parse_changes(item)
    return ip_connection_rules.apply_changes(ip_connection_rules.new_ip_connection(connection_id, created_at), changes,
                                             updated_at)


def _ids_once_across(lists: list[list[tuple[str, dict[str, Any]]]], problems: ProblemList) -> None:
    """Connections of every kind share their ids: an id seeded in two lists is refused at the second."""
    first: dict[str, str] = {}
    for placed in lists:
        for at, connection in placed:
            seen = first.setdefault(connection["id"], at)
            if seen != at:
                problems.add(_problem(BAD_VALUE, f"The id {connection['id']} is seeded more than once (first at "
                                                 f"{seen}).", f"{at}/id"))


def _fqdn_connection(connection_id: int, item: dict[str, Any], created_at: str, updated_at: str) -> dict[str, Any]:
    changes = fqdn_connection_rules.parse_new(item)
    return fqdn_connection_rules.apply_changes(fqdn_connection_rules.new_fqdn_connection(connection_id, created_at),
                                               changes, updated_at)


def _fqdn(fqdn_id: int, item: dict[str, Any], created_at: str, updated_at: str) -> dict[str, Any]:
    return dict(fqdn_rules.apply_changes(fqdn_rules.new_fqdn(fqdn_id, created_at), fqdn_rules.parse_new(item),
                                         updated_at))


def _ip(ip_id: str, item: dict[str, Any], created_at: str, updated_at: str) -> dict[str, Any]:
    return dict(ip_rules.apply_changes(ip_rules.new_ip(ip_id, created_at), ip_rules.parse_changes(item), updated_at))


def _billing_group(account_id: str) -> Build:
    def build(group_id: str, item: dict[str, Any], created_at: str, updated_at: str) -> dict[str, Any]:
        changes = billing_group_rules.parse_changes(item)
        new = billing_group_rules.new_billing_group(group_id, account_id, created_at)
        return dict(billing_group_rules.apply_changes(new, changes, updated_at))

    return build


def load(tx: Transaction, account_id: str, seed: object) -> Loaded:
    """Stores every resource of the seed, or none: raises InvalidInput listing every problem."""
    if not isinstance(seed, dict) or not any(isinstance(seed.get(key), list) for key in SEEDED_LISTS):
        raise InvalidInput([_problem(WRONG_TYPE, 'A seed is {"data": [profile, ...], "credential_connections": '
                                                 '[connection, ...], "billing_groups": [group, ...]}.', "/data")])
    problems = ProblemList()
    profiles = _documents([item for key in PROFILE_LISTS for item in _items(seed, key, problems)], _profile, problems)
    connection_items = _items(seed, CONNECTIONS, problems)
    connections = [cast(ConnectionDocument, built) for built in _documents(connection_items, _connection, problems)]
    ip_connection_items = _items(seed, IP_CONNECTIONS, problems)
    ip_connections = _documents(ip_connection_items, _ip_connection, problems)
    fqdn_connection_items = _items(seed, FQDN_CONNECTIONS, problems)
    fqdn_connections = _documents(fqdn_connection_items, _fqdn_connection, problems)
    fqdn_items = _items(seed, FQDNS, problems)
    seeded_fqdns = _documents(fqdn_items, _fqdn, problems)
    groups = _documents(_items(seed, BILLING_GROUPS, problems), _billing_group(account_id), problems, UUID_ID)
    ip_items = _items(seed, IPS, problems)
    seeded_ips = _documents(ip_items, _ip, problems, UUID_ID)
    problems.raise_if_any()
    placed_credentials = [(at, dict(connection)) for (at, _item), connection in zip(connection_items, connections,
                                                                                     strict=True)]
    placed_ips = [(at, connection) for (at, _item), connection in zip(ip_connection_items, ip_connections,
                                                                       strict=True)]
    placed_fqdns = [(at, connection) for (at, _item), connection in zip(fqdn_connection_items, fqdn_connections,
                                                                         strict=True)]
    _ids_once_across([placed_credentials, placed_ips, placed_fqdns], problems)
    problems.raise_if_any()
    groups_table = billing_group_store.table
    for group in groups:
        _replace(tx, groups_table.get, groups_table.delete, groups_table.insert, account_id, group, key=str)
    for profile in profiles:
        _replace(tx, profile_store.get, profile_store.delete, profile_store.insert, account_id, profile)
    seeded = {int(profile["id"]) for profile in profiles}
    for at, connection in [*placed_credentials, *placed_ips, *placed_fqdns]:
        profile_id = connection_rules.outbound_profile_id(connection)
        if profile_id is not None and profile_id not in seeded \
                and not profile_store.lock_for_reference(tx, account_id, profile_id):
            problems.add(_problem(BAD_VALUE, f"No outbound voice profile of the seed or the account has the id "
                                             f"{profile_id}.", f"{at}/outbound/outbound_voice_profile_id"))
    problems.raise_if_any()
    # All replaced ones go first, whatever their kind, so that seeded connections may trade user names.
    every_kind = connection_store.any_kind
    for _at, placed in [*placed_credentials, *placed_ips, *placed_fqdns]:
        with suppress(NotFound):
            replaced = every_kind.get(tx, account_id, int(placed["id"]), for_update=True)
            # A connection's IPs and FQDNs go with it.
            ip_store.delete_of_connection(tx, account_id, int(placed["id"]))
            fqdn_store.delete_of_connection(tx, account_id, int(placed["id"]))
            every_kind.delete(tx, account_id, replaced)
    for (at, _item), credential in zip(connection_items, connections, strict=True):
        taken = connection_service.user_name_problem(tx, account_id, credential)
        if taken is not None:
            problems.add(_problem(BAD_VALUE, taken, f"{at}/user_name"))
        else:
            connection_store.credentials.insert(tx, account_id, credential)
    for _at, ip_connection in placed_ips:
        connection_store.ip_connections.insert(tx, account_id, ip_connection)
    for _at, fqdn_connection in placed_fqdns:
        connection_store.fqdn_connections.insert(tx, account_id, fqdn_connection)
    problems.raise_if_any()
    ips = [(at, cast(IpDocument, ip)) for (at, _item), ip in zip(ip_items, seeded_ips, strict=True)]
    _load_addresses(tx, account_id, ips, ip_store.table, ip_service.check, str)
    names = [(at, cast(FqdnDocument, fqdn)) for (at, _item), fqdn in zip(fqdn_items, seeded_fqdns, strict=True)]
    _load_addresses(tx, account_id, names, fqdn_store.table, fqdn_service.check, int)
    return Loaded(len(profiles), len(connections) + len(ip_connections) + len(fqdn_connections), len(groups),
                  len(seeded_ips), len(seeded_fqdns))


A = TypeVar("A", bound=Mapping[str, Any])


def _load_addresses(tx: Transaction, account_id: str, placed: list[tuple[str, A]], table: DocumentTable[A],
                    check: Callable[[Transaction, str, A], None], key: Callable[[str], Any]) -> None:
    """Each address (an IP, an FQDN) replaces the account's of its id, then is checked as the API
    checks it (its connection one of the seed's or the account's, of the right kind)."""
    problems = ProblemList()
    for _at, address in placed:
        with suppress(NotFound):
            table.delete(tx, account_id, table.get(tx, account_id, key(address["id"]), for_update=True))
    for at, address in placed:
        try:
            check(tx, account_id, address)
        except InvalidInput as error:
            for problem in error.problems:
                problems.add(Problem(problem.code, problem.title, problem.detail, pointer=at + (problem.pointer or "")))
            continue
        table.insert(tx, account_id, address)
    problems.raise_if_any()  # the transaction is rolled back: nothing of the seed is stored


def _replace(tx: Transaction, get: Callable[..., Any], delete: Callable[..., Any], insert: Callable[..., Any],
             account_id: str, document: dict[str, Any], key: Callable[[str], Any] = int) -> None:
    with suppress(NotFound):  # ids are the account's own: a seed replaces its resource of that id, if any
        delete(tx, account_id, get(tx, account_id, key(document["id"]), for_update=True))
    insert(tx, account_id, document)
