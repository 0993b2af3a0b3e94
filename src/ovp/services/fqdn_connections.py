"""The FQDN connection's operations: a trunk's (see ovp.services.trunk_connections), with FQDNs."""

from __future__ import annotations

from ovp.domain import fqdn_connection as rules
from ovp.services.trunk_connections import TrunkKind
from ovp.store import connections as store
from ovp.store import fqdns as fqdn_store

kind = TrunkKind(rules.RECORD_TYPE, store.fqdn_connections, rules.new_fqdn_connection, rules.parse_new,
                 rules.parse_changes, rules.apply_changes, fqdn_store.delete_of_connection)
