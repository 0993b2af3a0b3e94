"""Migration 0002 and ovp.store.schema describe the same credential_connections table."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from ovp.store.database import Database
from ovp.store.engine import make_engine
from ovp.store.migrate import upgrade
from ovp.store.schema import connections, metadata


def test_the_migrated_table_is_the_described_one(database_url: str) -> None:
    database = Database(make_engine(database_url))
    upgrade(database)
    try:
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        database.dispose()
    ours = [difference for difference in differences if connections.name in repr(difference)]
    assert ours == []
