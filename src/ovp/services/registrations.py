"""SIP registrations: a switch's report of a REGISTER it accepted, bound to the credential connection
whose user name it names, and the connection's registration status as Telnyx answers it.

A report forgets the connection's bindings that had expired by then: after a registration one is
bound, and the latest of them answers the status while any is; after a removal the device said it
is gone, which an older expiry should not contradict. So the rows of a connection are its bound
contacts, and at most those that expired since its last report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovp.domain.connections.fields import could_be_user_name
from ovp.domain.errors import InvalidInput, NotFound, Problem
from ovp.domain.registrations.registration import (
    EVERY_CONTACT,
    Binding,
    RegistrationReport,
    binding_of,
    status_view,
)
from ovp.domain.validation import BAD_VALUE
from ovp.store import connections as connection_store
from ovp.store import registrations as store
from ovp.store.database import Transaction


@dataclass(frozen=True)
class Reported:
    connection_id: int
    user_name: str  # the connection's, as it spells it
    binding: Binding


def report(tx: Transaction, account_id: str, reported: RegistrationReport, now_ms: int) -> Reported:
    """Binds the report's contact to the connection whose user name it names, in any case, or
    removes it (expires 0); a user name none of the account's credential connections has is a 422."""
    found = connection_store.credential_by_user_name(tx, account_id, reported.user_name) \
        if could_be_user_name(reported.user_name) else None
    try:
        if found is None:
            raise NotFound()
        connection_id = found[0]
        # Locked until the binding is stored, so that a delete of the connection on another server
        # either waits for it (and drops it) or comes first (and the report is refused).
        connection = connection_store.credential_connections.get(tx, account_id, connection_id, for_update=True).value
    except NotFound:
        code, title = BAD_VALUE
        raise InvalidInput([Problem(code, title, f"user_name: no credential connection of the account has the "
                                                 f"user name {reported.user_name!r}.", pointer="/user_name")]) from None
    binding = binding_of(reported, now_ms)
    store.forget_expired(tx, account_id, connection_id, now_ms)
    if reported.expires > 0:
        store.bind(tx, account_id, connection_id, binding)
    else:
        store.unbind(tx, account_id, connection_id, None if reported.contact == EVERY_CONTACT else reported.contact)
    return Reported(connection_id, connection["user_name"], binding)


def registration_status(tx: Transaction, account_id: str, connection_id: int, now_ms: int) -> dict[str, Any]:
    """The account's credential connection's status now (NotFound without the connection)."""
    connection = connection_store.credential_connections.get(tx, account_id, connection_id).value
    return status_view(connection["user_name"], store.of_connection(tx, account_id, connection_id), now_ms)

