"""The refused calls' records: written with the transaction's COMMIT, a group's in one statement."""

from __future__ import annotations

from dataclasses import fields

from sqlalchemy import bindparam, select, text

from ovp.domain.calls.refusal import Refusal
from ovp.store.database import Statement, Transaction
from ovp.store.schema import call_refusals

_REFUSALS = call_refusals.c
FIELDS = [field.name for field in fields(Refusal)]
ROW = [_REFUSALS[name] for name in FIELDS]  # a row reads back as Refusal(*row)
# An id another server drew too (ovp.domain.ids: the same node number, millisecond and sequence,
# within the same account) leaves that one refusal unrecorded rather than failing its group's
# COMMIT, which would hold the allowed calls decided with it. The same SQL on SQLite and PostgreSQL.
_INSERT = Statement(text(
    f"INSERT INTO call_refusals (account_id, {', '.join(FIELDS)}) "  # noqa: S608
    f"VALUES (:account_id, {', '.join(':' + name for name in FIELDS)}) ON CONFLICT (account_id, id) DO NOTHING"
))
_SELECT = Statement(select(*ROW).where((_REFUSALS.account_id == bindparam("owner"))
                                       & (_REFUSALS.id == bindparam("call_id"))))
_DELETE_OF_ACCOUNT = Statement(call_refusals.delete().where(_REFUSALS.account_id == bindparam("owner")))
_DELETE_ALL = Statement(call_refusals.delete())
_PURGE = Statement(call_refusals.delete().where(_REFUSALS.decided_ms < bindparam("before_ms")))


def record(tx: Transaction, account_id: str, refusal: Refusal) -> None:
    """Records the refusal when the transaction commits (see Transaction.append)."""
    tx.append(_INSERT, {"account_id": account_id, **{name: getattr(refusal, name) for name in FIELDS}})


def get(tx: Transaction, account_id: str, call_id: int) -> Refusal | None:
    found = tx.rows(_SELECT, {"owner": account_id, "call_id": call_id})
    return Refusal(*found[0]) if found else None


def delete_account(tx: Transaction, account_id: str) -> int:
    return tx.execute(_DELETE_OF_ACCOUNT, {"owner": account_id})


def delete_everything(tx: Transaction) -> int:
    return tx.execute(_DELETE_ALL)


def purge(tx: Transaction, *, before_ms: int) -> int:
    """Deletes, in every account, the refusals made before `before_ms`; answers how many."""
    return tx.execute(_PURGE, {"before_ms": before_ms})
