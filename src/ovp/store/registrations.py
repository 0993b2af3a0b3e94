"""Queries on the contacts bound to credential connections (SIP registrations). Every one is scoped
to an account."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import bindparam, select, text

from ovp.domain.registrations.registration import Binding
from ovp.store.database import Statement, Transaction
from ovp.store.schema import sip_registrations

_COLUMNS = sip_registrations.c
FIELDS = [field.name for field in fields(Binding)]
_OF_CONNECTION = (_COLUMNS.account_id == bindparam("owner")) & (_COLUMNS.connection_id == bindparam("cid"))
# A contact bound again is the same binding, refreshed. The same SQL on SQLite and PostgreSQL.
_BIND = Statement(text(
    f"INSERT INTO sip_registrations (account_id, connection_id, {', '.join(FIELDS)}) "  # noqa: S608
    f"VALUES (:owner, :cid, {', '.join(':' + name for name in FIELDS)}) "
    "ON CONFLICT (account_id, connection_id, contact) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in FIELDS if name != "contact")
))
_SELECT = Statement(select(*(_COLUMNS[name] for name in FIELDS)).where(_OF_CONNECTION))
_UNBIND = Statement(sip_registrations.delete().where(_OF_CONNECTION & (_COLUMNS.contact == bindparam("contact"))))
_UNBIND_ALL = Statement(sip_registrations.delete().where(_OF_CONNECTION))
_FORGET_EXPIRED = Statement(sip_registrations.delete().where(_OF_CONNECTION
                                                             & (_COLUMNS.expires_ms <= bindparam("now_ms"))))
_DELETE_ACCOUNT = Statement(sip_registrations.delete().where(_COLUMNS.account_id == bindparam("owner")))
_DELETE_EVERYTHING = Statement(sip_registrations.delete())


def bind(tx: Transaction, account_id: str, connection_id: int, binding: Binding) -> None:
    tx.execute(_BIND, {"owner": account_id, "cid": connection_id,
                       **{name: getattr(binding, name) for name in FIELDS}})


def unbind(tx: Transaction, account_id: str, connection_id: int, contact: str | None) -> int:
    """Removes the connection's binding of `contact`, or every one of its bindings (None)."""
    if contact is None:
        return tx.execute(_UNBIND_ALL, {"owner": account_id, "cid": connection_id})
    return tx.execute(_UNBIND, {"owner": account_id, "cid": connection_id, "contact": contact})


def forget_expired(tx: Transaction, account_id: str, connection_id: int, now_ms: int) -> int:
    return tx.execute(_FORGET_EXPIRED, {"owner": account_id, "cid": connection_id, "now_ms": now_ms})


def of_connection(tx: Transaction, account_id: str, connection_id: int) -> list[Binding]:
    """The connection's bindings, expired or not."""
    return [Binding(*row) for row in tx.rows(_SELECT, {"owner": account_id, "cid": connection_id})]


def delete_account(tx: Transaction, account_id: str) -> int:
    return tx.execute(_DELETE_ACCOUNT, {"owner": account_id})


def delete_everything(tx: Transaction) -> int:
    return tx.execute(_DELETE_EVERYTHING)
