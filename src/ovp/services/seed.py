"""Seeding: resources given in the shape the API answers with, ids kept, checked as strictly as the
API checks them.

    {"data": [profile, ...], "credential_connections": [connection, ...], "billing_groups": [group, ...]}

`data` (or `outbound_voice_profiles`) holds profiles, `credential_connections` credential connections
(with their `password`), `ip_connections`, `fqdn_connections`, `call_control_applications` and
`texml_applications` the other kinds of connection (a connection of any kind naming in
`outbound.outbound_voice_profile_id` a profile of the seed or of the account; an id once across
these lists; an FQDN connection with its authentication, if any, under `fqdn_authentication` as
PATCH /v2/fqdn_connections/{id}/fqdn_authentication takes it), `billing_groups` billing groups
(their ids UUIDs), and `account` the account's own settings as `PATCH /ovp/account` takes them
(`{"channel_limit": 10}`). Timestamps must be real ones; an id given twice is refused at each place.
A seed stores all of itself or nothing: a problem anywhere is a 422 that lists every problem with its
pointer. A resource of the account with a seeded id is replaced; a connection's user_name must not be
another of the account's connections' (in any case).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ovp.domain.accounts.account import AccountChanges, parse_account_changes
from ovp.domain.clock import now_timestamp
from ovp.domain.connections.fqdn_authentication import parse_seeded as parse_seeded_fqdn
from ovp.domain.errors import InvalidInput, NotFound, Problem, ProblemList, problems_at
from ovp.domain.resource import Changes
from ovp.domain.validation import BAD_VALUE, WRONG_TYPE
from ovp.services import accounts, addresses, billing_groups, connections, profiles
from ovp.services.resources import Resource
from ovp.store import connections as connection_store
from ovp.store.database import Transaction
from ovp.store.documents import DocumentTable

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@dataclass(frozen=True)
class Seeded:
    """A resource a seed may hold: the seed's lists that hold it, what it counts as in the answer,
    the table whose row of the same id it replaces (connections: of any kind), what goes with
    a replaced row, and how an item is read when not as the body of a create."""

    lists: tuple[str, ...]
    resource: Resource[Any, Any, Any]
    counted_as: str
    replaces: DocumentTable[Any] | None = None
    with_replaced: Callable[[Transaction, str, Mapping[str, Any]], None] | None = None
    parse_item: Callable[[object], Changes] | None = None

    @property
    def replaced_table(self) -> DocumentTable[Any]:
        return self.replaces if self.replaces is not None else self.resource.table

    def parse(self, item: object) -> Changes:
        return (self.parse_item or self.resource.kind.parse_new)(item)


# In the order they are stored: what a resource names is stored before it.
SEEDED = (
    Seeded(("billing_groups",), billing_groups.resource, "billing_groups"),
    Seeded(("data", "outbound_voice_profiles"), profiles.resource, "profiles"),
    *(Seeded((name,), resource, "connections", connection_store.any_kind, connections.delete_dependents, parse)
      for name, resource, parse in (("credential_connections", connections.credential_connections, None),
                                    ("ip_connections", connections.ip_connections, None),
                                    ("fqdn_connections", connections.fqdn_connections, parse_seeded_fqdn),
                                    ("call_control_applications", connections.call_control_applications, None),
                                    ("texml_applications", connections.texml_applications, None))),
    Seeded(("ips",), addresses.ips, "ips"),
    Seeded(("fqdns",), addresses.fqdns, "fqdns"),
)
SEEDED_LISTS = tuple(name for seeded in SEEDED for name in seeded.lists)
ACCOUNT = "account"  # the account's own settings, as PATCH /ovp/account takes them


@dataclass(frozen=True)
class Loaded:
    profiles: int
    connections: int
    billing_groups: int
    ips: int
    fqdns: int


Placed = list[tuple[str, dict[str, Any]]]  # each document, and where the seed has it


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


def _documents(items: list[tuple[str, object]], seeded: Seeded, account_id: str, ids: list[tuple[str, str]],
               problems: ProblemList) -> Placed:
    """Each item checked and made the document the API would store, its id and times kept; each id
    read is added to `ids` with its place, the item valid or not."""
    kind = seeded.resource.kind
    documents: Placed = []
    now = now_timestamp()
    for at, item in items:
        if not isinstance(item, dict):
            problems.add(_problem(WRONG_TYPE, "Each seeded resource must be a JSON object.", at))
            continue
        if item.get("record_type", kind.record_type) != kind.record_type:  # read-only, but it says what it is
            problems.add(_problem(BAD_VALUE, f"record_type must be {kind.record_type!r} here.", f"{at}/record_type"))
            continue
        resource_id = kind.ids.parse(str(item.get("id", "")))
        if resource_id is None:
            problems.add(_problem(BAD_VALUE, f"id must be {kind.ids.described}.", f"{at}/id"))
            continue
        ids.append((at, str(resource_id)))
        created_at = _timestamp(item, "created_at", now, at, problems)
        updated_at = _timestamp(item, "updated_at", created_at, at, problems)
        try:
            documents.append((at, dict(kind.made(resource_id, account_id, seeded.parse(item), created_at,
                                                  updated_at))))
        except InvalidInput as error:
            problems.extend(problems_at(error.problems, at))
    return documents


def _ids_once_a_table(ids: list[tuple[Seeded, list[tuple[str, str]]]], problems: ProblemList) -> None:
    """An id is seeded once in a table: connections of every kind share theirs, so an id in two of
    their lists is refused at the second place, as in one list."""
    first: dict[tuple[str, str], str] = {}
    for seeded, placed in ids:
        for at, resource_id in placed:
            seen = first.setdefault((seeded.replaced_table.table.name, resource_id), at)
            if seen != at:
                problems.add(_problem(BAD_VALUE, f"The id {resource_id} is seeded more than once (first at "
                                                 f"{seen}).", f"{at}/id"))


def load(tx: Transaction, account_id: str, seed: object) -> Loaded:
    """Stores every resource of the seed, or none: raises InvalidInput listing every problem."""
    if not isinstance(seed, dict) or not (any(isinstance(seed.get(key), list) for key in SEEDED_LISTS)
                                          or ACCOUNT in seed):
        raise InvalidInput([_problem(WRONG_TYPE, 'A seed is {"data": [profile, ...], "credential_connections": '
                                                 '[connection, ...], "billing_groups": [group, ...]}.', "/data")])
    problems = ProblemList()
    account = _account_changes(seed, problems)
    ids: list[tuple[Seeded, list[tuple[str, str]]]] = [(seeded, []) for seeded in SEEDED]
    staged = [(seeded, _documents([item for name in seeded.lists for item in _items(seed, name, problems)],
                                  seeded, account_id, read, problems)) for seeded, read in ids]
    _ids_once_a_table(ids, problems)
    problems.raise_if_any()
    # Whatever the seed replaces goes first, so that seeded connections may trade user names.
    for seeded, placed in staged:
        for _at, document in placed:
            _remove(tx, account_id, seeded, document)
    for seeded, placed in staged:
        for at, document in placed:
            try:
                seeded.resource.hooks.check(tx, account_id, document, None)
            except InvalidInput as error:
                problems.extend(problems_at(error.problems, at))
                continue
            seeded.resource.table.insert(tx, account_id, document)
        problems.raise_if_any()  # the transaction is rolled back: nothing of the seed is stored
    if account is not None:
        accounts.update(tx, account_id, account)
    counts = {name: 0 for name in ("profiles", "connections", "billing_groups", "ips", "fqdns")}
    for seeded, placed in staged:
        counts[seeded.counted_as] += len(placed)
    return Loaded(**counts)


def _account_changes(seed: dict[str, Any], problems: ProblemList) -> AccountChanges | None:
    """The account's settings the seed gives (`"account": {"channel_limit": 10}`), if any."""
    if ACCOUNT not in seed:
        return None
    try:
        return parse_account_changes(seed[ACCOUNT])
    except InvalidInput as error:
        problems.extend(problems_at(error.problems, f"/{ACCOUNT}"))
        return None


def _remove(tx: Transaction, account_id: str, seeded: Seeded, document: Mapping[str, Any]) -> None:
    """The account's resource of the document's id, if any: ids are the account's own, so a seed
    replaces it."""
    table = seeded.replaced_table
    with suppress(NotFound):
        replaced = table.get(tx, account_id, seeded.resource.kind.ids.parse(str(document["id"])), for_update=True)
        if seeded.with_replaced is not None:
            seeded.with_replaced(tx, account_id, replaced.value)
        table.delete(tx, account_id, replaced)
