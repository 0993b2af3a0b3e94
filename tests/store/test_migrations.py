"""Migrations keep the data already there: 0006 keys every account's table by (account_id, id), 0007
makes user names unique within an account, 0010 keeps every kind of connection in one table, 0019
gives FQDN connections stored before it the fields added since."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from ovp.store.migrate import MIGRATIONS
from tests.databases import migrated_database


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False) \
        if parsed.get_backend_name() == "postgresql" else url


@contextmanager
def at_revision(url: str, revision: str) -> Iterator[Connection]:
    """A connection to the database at `url`, brought from nothing to `revision`, in a transaction."""
    engine = create_engine(_sync_url(url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # this run's database is at head already: start over
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        yield connection
    engine.dispose()


def test_ids_within_an_account_keep_the_data_already_there(file_database_url: str) -> None:
    with at_revision(file_database_url, "0005") as connection:
        connection.execute(text(
            "INSERT INTO outbound_voice_profiles (id, account_id, name, name_folded, enabled, traffic_type, "
            "service_plan, usage_payment_method, created_at, updated_at, revision, document) VALUES "
            "(7, 'a', 'office', 'office', true, 'conversational', 'global', 'rate-deck', "
            "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 3, '{\"id\": \"7\", \"name\": \"office\"}')"
        ))
        connection.execute(text("INSERT INTO daily_spend (profile_id, day, account_id, spent_micros) "
                                "VALUES (7, '2026-01-01', 'a', 1500)"))
    with migrated_database(file_database_url):
        pass
    engine = create_engine(_sync_url(file_database_url))
    with engine.begin() as connection:
        assert connection.execute(text("SELECT account_id, id, revision FROM outbound_voice_profiles")).all() == [
            ("a", 7, 3)]
        assert connection.execute(text("SELECT spent_micros FROM daily_spend")).scalar() == 1500
        # Another account may now hold the same id.
        connection.execute(text(
            "INSERT INTO outbound_voice_profiles SELECT 7, 'b', name, name_folded, enabled, traffic_type, "
            "service_plan, usage_payment_method, created_at, updated_at, revision, document, connections_count "
            "FROM outbound_voice_profiles"
        ))
        assert connection.execute(text("SELECT count(*) FROM outbound_voice_profiles WHERE id = 7")).scalar() == 2
    engine.dispose()


def _stored_connection(connection: Connection, account_id: str, connection_id: int, user_name: str,
                       created_at: str) -> None:
    document = json.dumps({"id": str(connection_id), "user_name": user_name, "password": "s3cret-passw0rd",
                           "active": True})
    connection.execute(text(
        "INSERT INTO credential_connections (id, account_id, connection_name, connection_name_folded, active, "
        "outbound_voice_profile_id, created_at, updated_at, revision, document) VALUES "
        "(:id, :account, 'trunk', 'trunk', true, NULL, :created, :created, 1, :document)"
    ), {"id": connection_id, "account": account_id, "created": created_at, "document": document})


def test_user_names_shared_before_uniqueness_stay_with_the_oldest_connection(
    file_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with at_revision(file_database_url, "0006") as connection:
        _stored_connection(connection, "a", 1, "Trunk1", "2026-01-02T00:00:00.000Z")
        _stored_connection(connection, "a", 2, "trunk1", "2026-01-01T00:00:00.000Z")  # older
        _stored_connection(connection, "b", 1, "trunk1", "2026-01-03T00:00:00.000Z")  # another account's
    with caplog.at_level(logging.WARNING, "ovp.migrations"), migrated_database(file_database_url):
        pass
    assert [record.getMessage() for record in caplog.records if record.name == "ovp.migrations"] == [
        "credential connection 1 of account a shares its user_name with an older connection: it cannot "
        "authenticate SIP calls until its user_name is changed"]
    engine = create_engine(_sync_url(file_database_url))
    with engine.begin() as connection:
        # 0010 renamed the table to connections, and its rows are credential connections.
        rows = connection.execute(text("SELECT account_id, id, user_name_folded, record_type FROM connections "
                                       "ORDER BY account_id, id")).all()
    engine.dispose()
    assert rows == [("a", 1, None, "credential_connection"), ("a", 2, "trunk1", "credential_connection"),
                    ("b", 1, "trunk1", "credential_connection")]


def test_a_profile_keeps_the_count_of_the_connections_already_there(file_database_url: str) -> None:
    with at_revision(file_database_url, "0016") as connection:
        for profile_id in (7, 8):
            connection.execute(text(
                "INSERT INTO outbound_voice_profiles (id, account_id, name, name_folded, enabled, traffic_type, "
                "service_plan, usage_payment_method, created_at, updated_at, revision, document) VALUES "
                "(:id, 'a', 'office', 'office', true, 'conversational', 'global', 'rate-deck', "
                "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 1, '{}')"
            ), {"id": profile_id})
        stored: list[tuple[int, str, int | None]] = [(1, "a", 7), (2, "a", 7), (3, "b", 7), (4, "a", None)]
        for connection_id, account_id, attached_to in stored:
            connection.execute(text(
                "INSERT INTO connections (id, account_id, connection_name, connection_name_folded, active, "
                "outbound_voice_profile_id, created_at, updated_at, revision, document, user_name_folded, "
                "record_type) VALUES (:id, :account, 'trunk', 'trunk', true, :profile, '2026-01-01T00:00:00.000Z', "
                "'2026-01-01T00:00:00.000Z', 1, '{}', NULL, 'ip_connection')"
            ), {"id": connection_id, "account": account_id, "profile": attached_to})
    with migrated_database(file_database_url):
        pass
    engine = create_engine(_sync_url(file_database_url))
    with engine.begin() as connection:
        counts = connection.execute(text("SELECT id, connections_count FROM outbound_voice_profiles ORDER BY id"))
        assert counts.all() == [(7, 2), (8, 0)]  # another account's connection is not the profile's
    engine.dispose()


def test_fqdn_connections_get_the_fields_added_since_at_their_defaults(file_database_url: str) -> None:
    stored = {"fqdn_connection": {"id": "1", "outbound": {"channel_limit": 4}},
              "ip_connection": {"id": "2", "outbound": {"tech_prefix": "1234"}}}
    with at_revision(file_database_url, "0018") as connection:
        for connection_id, (record_type, document) in enumerate(stored.items(), start=1):
            connection.execute(text(
                "INSERT INTO connections (id, account_id, connection_name, connection_name_folded, active, "
                "outbound_voice_profile_id, created_at, updated_at, revision, document, user_name_folded, "
                "record_type) VALUES (:id, 'a', 'trunk', 'trunk', true, NULL, '2026-01-01T00:00:00.000Z', "
                "'2026-01-01T00:00:00.000Z', 3, :document, NULL, :record_type)"
            ), {"id": connection_id, "document": json.dumps(document), "record_type": record_type})
    with migrated_database(file_database_url):
        pass
    engine = create_engine(_sync_url(file_database_url))
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT record_type, revision, document FROM connections ORDER BY id")).all()
    engine.dispose()
    documents = {record_type: (revision, json.loads(document)) for record_type, revision, document in rows}
    assert documents == {
        "fqdn_connection": (3, {"id": "1", "outbound": {"channel_limit": 4, "tech_prefix": None},
                                "fqdn_authentication": {"ip_authentication_method": None}}),
        "ip_connection": (3, stored["ip_connection"]),
    }
