"""Migration 0006 keys every account's table by (account_id, id) and keeps the data already there."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from ovp.store.migrate import MIGRATIONS
from tests.databases import migrated_database


def _sync_url(url: str) -> str:
    parsed = make_url(url)
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False) \
        if parsed.get_backend_name() == "postgresql" else url


def test_ids_within_an_account_keep_the_data_already_there(file_database_url: str) -> None:
    engine = create_engine(_sync_url(file_database_url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # this run's database is at head already: start over
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        config.attributes["connection"] = connection
        command.upgrade(config, "0005")
        connection.execute(text(
            "INSERT INTO outbound_voice_profiles (id, account_id, name, name_folded, enabled, traffic_type, "
            "service_plan, usage_payment_method, created_at, updated_at, revision, document) VALUES "
            "(7, 'a', 'office', 'office', true, 'conversational', 'global', 'rate-deck', "
            "'2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 3, '{\"id\": \"7\", \"name\": \"office\"}')"
        ))
        connection.execute(text("INSERT INTO daily_spend (profile_id, day, account_id, spent_micros) "
                                "VALUES (7, '2026-01-01', 'a', 1500)"))
    engine.dispose()
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
            "service_plan, usage_payment_method, created_at, updated_at, revision, document "
            "FROM outbound_voice_profiles"
        ))
        assert connection.execute(text("SELECT count(*) FROM outbound_voice_profiles WHERE id = 7")).scalar() == 2
    engine.dispose()
