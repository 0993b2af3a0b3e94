"""Brings a database's schema up to date with Alembic, from code rather than an alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from ovp.store.database import Database

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(database: Database) -> None:
    config = _config()
    with database.engine.connect() as connection:
        if database.backend == "postgresql":
            # The engine runs in autocommit; migrations need a real transaction (and its advisory lock).
            connection.execution_options(isolation_level="READ COMMITTED")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
