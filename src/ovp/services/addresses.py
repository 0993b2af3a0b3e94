"""The addresses a switch knows a connection's calls by, declared: IPs (an IP connection's, each
address and port one IP's per account) and FQDNs (an FQDN connection's). An address names one of the
account's connections of its kind, locked while the write commits, so that it is not deleted meanwhile."""

from __future__ import annotations

from ovp.domain.addresses import fqdn as fqdn_rules
from ovp.domain.addresses import ip as ip_rules
from ovp.domain.addresses.fqdn import FqdnDocument, FqdnListQuery, parse_fqdn_list_query
from ovp.domain.addresses.ip import IpDocument, IpListQuery, parse_ip_list_query
from ovp.domain.errors import InvalidInput, NotFound, Problem
from ovp.domain.validation import BAD_VALUE
from ovp.services.resources import Hooks, Resource
from ovp.store import connections as connection_store
from ovp.store import fqdns as fqdn_store
from ovp.store import ips as ip_store
from ovp.store.database import Transaction
from ovp.store.documents import DocumentTable


def _bad(detail: str, pointer: str) -> InvalidInput:
    code, title = BAD_VALUE
    return InvalidInput([Problem(code, title, detail, pointer=pointer)])


def _lock_connection(tx: Transaction, account_id: str, connections: DocumentTable[dict[str, object]],
                     connection_id: int, described: str) -> None:
    try:
        connections.get(tx, account_id, connection_id, for_update=True)
    except NotFound:
        raise _bad(f"connection_id: the account has no {described} {connection_id}.", "/connection_id") from None


def check_ip(tx: Transaction, account_id: str, ip: IpDocument, _previous: IpDocument | None = None) -> None:
    """The IP's connection, if any, is one of the account's IP connections, and its address and port
    no other IP's."""
    connection_id = ip_rules.connection_of(ip)
    if connection_id is not None:
        _lock_connection(tx, account_id, connection_store.ip_connections, connection_id, "IP connection")
    holder = ip_store.at_address(tx, account_id, ip["ip_address"], ip["port"])
    if holder is not None and holder[0] != ip["id"]:
        raise _bad(f"ip_address: {ip['ip_address']} port {ip['port']} is the account's IP {holder[0]} already.",
                   "/ip_address")


def check_fqdn(tx: Transaction, account_id: str, fqdn: FqdnDocument, _previous: FqdnDocument | None = None) -> None:
    """The FQDN's connection is one of the account's FQDN connections."""
    _lock_connection(tx, account_id, connection_store.fqdn_connections, int(fqdn["connection_id"]), "FQDN connection")


ips = Resource[IpDocument, str, IpListQuery](
    ip_rules.KIND, ip_store.table, parse_ip_list_query, ip_store.list_page, Hooks(check=check_ip),
)
fqdns = Resource[FqdnDocument, int, FqdnListQuery](
    fqdn_rules.KIND, fqdn_store.table, parse_fqdn_list_query, fqdn_store.list_page, Hooks(check=check_fqdn),
)
