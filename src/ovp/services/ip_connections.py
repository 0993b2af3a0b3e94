"""The IP connection's operations: a trunk's (see ovp.services.trunk_connections), with IPs."""

from __future__ import annotations

from ovp.domain import ip_connection as rules
from ovp.services.trunk_connections import TrunkKind
from ovp.store import connections as store
from ovp.store import ips as ip_store

kind = TrunkKind(rules.RECORD_TYPE, store.ip_connections, rules.new_ip_connection, rules.parse_changes,
                 rules.parse_changes, rules.apply_changes, ip_store.delete_of_connection)
