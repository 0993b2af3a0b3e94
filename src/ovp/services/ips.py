"""The five IP operations. Each runs inside the transaction its caller opened, and answers the IP as
the API shows it."""

from __future__ import annotations

from typing import Any

from ovp.domain import ip as rules
from ovp.domain.clock import now_timestamp
from ovp.domain.errors import InvalidInput, NotFound, Problem
from ovp.domain.etags import Revised, check_if_match
from ovp.domain.ids import IdGenerator
from ovp.domain.ip import IpDocument, IpListQuery
from ovp.domain.listing import PageMeta
from ovp.domain.validation import BAD_VALUE
from ovp.services.creating import with_new_uuid
from ovp.store import connections as connection_store
from ovp.store import ips as store
from ovp.store.database import Transaction


def _shown(ip: Revised[IpDocument]) -> Revised[dict[str, Any]]:
    return Revised(dict(ip.value), ip.revision)


def check(tx: Transaction, account_id: str, ip: IpDocument) -> None:
    """The IP's connection must be one of the account's IP connections (locked until this transaction
    ends, so that it is not deleted meanwhile), and its address and port no other IP's."""
    code, title = BAD_VALUE
    connection_id = rules.connection_of(ip)
    if connection_id is not None:
        try:
            connection_store.ip_connections.get(tx, account_id, connection_id, for_update=True)
        except NotFound:
            raise InvalidInput([Problem(code, title, f"connection_id: the account has no IP connection "
                                        f"{connection_id}.", pointer="/connection_id")]) from None
    holder = store.at_address(tx, account_id, ip["ip_address"], ip["port"])
    if holder is not None and holder[0] != ip["id"]:
        raise InvalidInput([Problem(code, title, f"ip_address: {ip['ip_address']} port {ip['port']} is the "
                                    f"account's IP {holder[0]} already.", pointer="/ip_address")])


def create(tx: Transaction, account_id: str, body: object, _ids: IdGenerator) -> Revised[dict[str, Any]]:
    """An IP under a new random UUID, as Telnyx's are (the numeric ids of `_ids` are not used)."""
    changes = rules.parse_changes(body)
    now = now_timestamp()

    def insert(ip_id: str) -> Revised[IpDocument]:
        ip = rules.apply_changes(rules.new_ip(ip_id, now), changes, now)
        check(tx, account_id, ip)
        return store.table.insert(tx, account_id, ip)

    return _shown(with_new_uuid(insert))


def retrieve(tx: Transaction, account_id: str, ip_id: str) -> Revised[dict[str, Any]]:
    return _shown(store.table.get(tx, account_id, ip_id))


def update(
    tx: Transaction, account_id: str, ip_id: str, body: object, if_match: str | None = None
) -> Revised[dict[str, Any]]:
    current = store.table.get(tx, account_id, ip_id, for_update=True)
    check_if_match(if_match, current)
    ip = rules.apply_changes(current.value, rules.parse_changes(body), now_timestamp())
    check(tx, account_id, ip)
    return _shown(store.table.replace(tx, account_id, current, ip))


def delete(tx: Transaction, account_id: str, ip_id: str, if_match: str | None = None) -> Revised[dict[str, Any]]:
    """Answers the IP as it was."""
    current = store.table.get(tx, account_id, ip_id, for_update=True)
    check_if_match(if_match, current)
    store.table.delete(tx, account_id, current)
    return _shown(current)


def list_page(tx: Transaction, account_id: str, query: IpListQuery) -> tuple[list[dict[str, Any]], PageMeta]:
    found, total = store.list_page(tx, account_id, query)
    return [dict(ip) for ip in found], PageMeta.of(query.page, total)
