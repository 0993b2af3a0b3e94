"""The migrations and ovp.store.schema describe the same tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from ovp.store.schema import metadata
from tests.databases import migrated_database


def test_the_migrated_tables_are_the_described_ones(file_database_url: str) -> None:
    with migrated_database(file_database_url):
        pass
    # Alembic compares through a synchronous SQLAlchemy connection: psycopg's, on PostgreSQL.
    parsed = make_url(file_database_url)
    engine = create_engine(parsed.set(drivername="postgresql+psycopg") if parsed.get_backend_name() == "postgresql"
                           else parsed)
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
    finally:
        engine.dispose()
    assert differences == []
