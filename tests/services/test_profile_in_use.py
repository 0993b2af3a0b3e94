"""A profile delete and a connection that names the profile, in two concurrent transactions: whichever
runs first, the other sees it, so no connection is ever left naming a deleted profile."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ovp.domain.errors import InvalidInput, OvpError, ResourceInUse
from ovp.domain.ids import IdGenerator
from ovp.services import connections, profiles
from ovp.store.database import Transaction
from tests.databases import BlockingDatabase, migrated_database

ACCOUNT = "account-a"
WAIT_S = 10.0
STILL_WAITING_S = 0.5


def _connection_body(profile_id: str) -> dict[str, Any]:
    return {"connection_name": "office", "user_name": "office1", "password": "s3cret-pass",
            "outbound": {"outbound_voice_profile_id": profile_id}}


class Held:
    """Runs `work` in a write transaction on a thread of its own, as another server would, and
    keeps the transaction open until released; records what the work answered or raised."""

    def __init__(self, url: str, work: Callable[[Transaction], object]) -> None:
        self.done = threading.Event()
        self.release = threading.Event()
        self.outcome: object = None
        self._thread = threading.Thread(target=self._run, args=(url, work))
        self._thread.start()

    def _run(self, url: str, work: Callable[[Transaction], object]) -> None:
        def hold(tx: Transaction) -> object:
            outcome = work(tx)
            self.done.set()
            self.release.wait(WAIT_S)
            return outcome

        with migrated_database(url) as database:
            try:
                self.outcome = database.write(hold)
            except OvpError as error:
                self.outcome = error
        self.done.set()

    def finish(self) -> object:
        self.release.set()
        self._thread.join(WAIT_S)
        assert not self._thread.is_alive()
        return self.outcome


def _new_profile(database: BlockingDatabase, ids: IdGenerator) -> str:
    changes = profiles.resource.kind.parse_new({"name": "office"})
    profile_id: str = database.write(lambda tx: profiles.resource.create(tx, ACCOUNT, changes, ids)).value["id"]
    return profile_id


def _attach(tx: Transaction, profile_id: str, ids: IdGenerator) -> object:
    credentials = connections.credential_connections
    return credentials.create(tx, ACCOUNT, credentials.kind.parse_new(_connection_body(profile_id)), ids)


def test_a_delete_waits_for_a_connection_being_attached_and_is_refused(database: BlockingDatabase) -> None:
    ids = IdGenerator()
    profile_id = _new_profile(database, ids)
    attaching = Held(database.url, lambda tx: _attach(tx, profile_id, ids))
    assert attaching.done.wait(WAIT_S)

    deleting = Held(database.url, lambda tx: profiles.resource.delete(tx, ACCOUNT, int(profile_id)))
    assert not deleting.done.wait(STILL_WAITING_S), "the delete did not wait for the connection's transaction"
    attaching.finish()
    assert isinstance(deleting.finish(), ResourceInUse)
    shown = database.read_one(lambda tx: profiles.resource.retrieve(tx, ACCOUNT, int(profile_id)))
    assert shown.value["connections_count"] == 1


def test_a_connection_waits_for_a_profile_being_deleted_and_is_refused(database: BlockingDatabase) -> None:
    ids = IdGenerator()
    profile_id = _new_profile(database, ids)
    deleting = Held(database.url, lambda tx: profiles.resource.delete(tx, ACCOUNT, int(profile_id)))
    assert deleting.done.wait(WAIT_S)

    attaching = Held(database.url, lambda tx: _attach(tx, profile_id, ids))
    assert not attaching.done.wait(STILL_WAITING_S), "the connection did not wait for the delete's transaction"
    deleting.finish()
    refused = attaching.finish()
    assert isinstance(refused, InvalidInput)
    assert refused.problems[0].pointer == "/outbound/outbound_voice_profile_id"
