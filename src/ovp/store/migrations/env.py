"""Alembic's entry point; ovp always hands it an open connection (see ovp.store.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, text

connection: Connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")

with context.begin_transaction():
    if connection.dialect.name == "postgresql":
        # Several servers may start at once; one migrates, the others wait and find it done.
        connection.execute(text("SELECT pg_advisory_xact_lock(7305421)"))
    context.run_migrations()
