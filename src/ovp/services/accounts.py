"""Reading and changing an account's own settings, inside the caller's transaction."""

from __future__ import annotations

from ovp.domain.accounts.account import Account, AccountChanges, changed
from ovp.store import accounts as store
from ovp.store.database import Transaction


def retrieve(tx: Transaction, account_id: str) -> Account:
    return Account(channel_limit=store.channel_limit(tx, account_id))


def update(tx: Transaction, account_id: str, changes: AccountChanges) -> Account:
    """Locks the account's row (as an authorization counting against its limit does) and changes it."""
    current = Account(channel_limit=store.channel_limit(tx, account_id, for_update=True))
    updated = changed(current, changes)
    if updated != current:
        store.set_channel_limit(tx, account_id, updated.channel_limit)
    return updated
