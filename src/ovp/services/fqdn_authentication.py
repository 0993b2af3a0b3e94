"""An FQDN connection's authentication: read and changed as the connection it is a view of (see
ovp.domain.connections.fqdn_authentication), so with the connection's rules, revision and hooks.
Only an FQDN connection of the account has one: any other id is NotFound."""

from __future__ import annotations

from ovp.domain.connections import fqdn_authentication as rules
from ovp.domain.etags import Revised
from ovp.domain.resource import Changes, View
from ovp.services.connections import fqdn_connections
from ovp.store.database import Transaction


def retrieve(tx: Transaction, account_id: str, connection_id: int) -> Revised[View]:
    stored = fqdn_connections.table.get(tx, account_id, connection_id)
    return Revised(rules.view(stored.value), stored.revision)


def update(tx: Transaction, account_id: str, connection_id: int, changes: Changes,
           if_match: str | None = None) -> Revised[View]:
    """`changes` are the connection's (rules.parse_changes); If-Match names the connection's revision."""
    stored, previous, _counted = fqdn_connections.revise(tx, account_id, connection_id, changes, if_match)
    return Revised(rules.written_view(stored.value, previous), stored.revision)
