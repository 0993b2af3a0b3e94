"""A call through a connection reads the connection once a transaction, so that a group's calls
through one trunk share the read; the transaction's own change of a connection, or of the
account's channel limit, is read again."""

from __future__ import annotations

from ovp.domain.ids import IdGenerator
from ovp.services import connections, profiles
from ovp.store import accounts
from ovp.store.connections import Calling, calling_through
from ovp.store.database import Transaction
from tests.databases import BlockingDatabase

ACCOUNT = "account-a"
CREDENTIALS = connections.credential_connections


def _connection(database: BlockingDatabase) -> int:
    ids = IdGenerator()
    changes = profiles.resource.kind.parse_new({"name": "office"})
    profile_id = database.write(lambda tx: profiles.resource.create(tx, ACCOUNT, changes, ids)).value["id"]
    body = CREDENTIALS.kind.parse_new({"connection_name": "trunk", "user_name": "trunk1", "password": "s3cret-pass",
                                       "outbound": {"outbound_voice_profile_id": profile_id, "channel_limit": 4}})
    return int(database.write(lambda tx: CREDENTIALS.create(tx, ACCOUNT, body, ids)).value["id"])


def test_a_transaction_reads_a_connection_for_its_calls_once(database: BlockingDatabase) -> None:
    connection_id = _connection(database)

    def twice(tx: Transaction) -> tuple[Calling, Calling]:
        return calling_through(tx, ACCOUNT, connection_id), calling_through(tx, ACCOUNT, connection_id)

    # read_one refuses a second statement: the second read is the first one remembered.
    first, second = database.read_one(twice)
    assert first == second
    assert (first.active, first.outbound["channel_limit"], first.account_channel_limit) == (True, 4, None)


def test_a_connection_changed_in_the_transaction_is_read_again(database: BlockingDatabase) -> None:
    connection_id = _connection(database)

    def change_between(tx: Transaction) -> tuple[Calling, Calling]:
        before = calling_through(tx, ACCOUNT, connection_id)
        CREDENTIALS.update(tx, ACCOUNT, connection_id, CREDENTIALS.kind.parse_changes(
            {"active": False, "outbound": {"channel_limit": 9}}))
        return before, calling_through(tx, ACCOUNT, connection_id)

    before, after = database.write(change_between)
    assert (before.active, before.outbound["channel_limit"]) == (True, 4)
    assert (after.active, after.outbound["channel_limit"]) == (False, 9)


def test_the_accounts_limit_set_in_the_transaction_is_the_one_a_call_reads(database: BlockingDatabase) -> None:
    connection_id = _connection(database)

    def limit_between(tx: Transaction) -> tuple[Calling, Calling]:
        before = calling_through(tx, ACCOUNT, connection_id)
        accounts.set_channel_limit(tx, ACCOUNT, 7)
        return before, calling_through(tx, ACCOUNT, connection_id)

    before, after = database.write(limit_between)
    assert (before.account_channel_limit, after.account_channel_limit) == (None, 7)
    assert database.read_one(lambda tx: calling_through(tx, ACCOUNT, connection_id)).account_channel_limit == 7
