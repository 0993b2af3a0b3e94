"""Ids unique within an account, not across accounts: any number of accounts can hold the same
profile id (a fixture seeded into each test's account). Every table of an account's resources is
keyed by (account_id, id), and what refers to a profile names its account too.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import warnings

import sqlalchemy as sa
from alembic import op
from sqlalchemy.exc import SAWarning

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# table -> its new primary key
KEYS = {
    "outbound_voice_profiles": ["account_id", "id"],
    "credential_connections": ["account_id", "id"],
    "call_authorizations": ["account_id", "id"],
    "daily_spend": ["account_id", "profile_id", "day"],
}


def _rekey(table: str, columns: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, ADD PRIMARY KEY ({', '.join(columns)})")
        return
    # SQLite changes a primary key by copying the table (alembic's batch mode). SQLAlchemy warns
    # that the copy's key differs from the reflected one's, which is the point.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*specifies columns .* as primary_key=True", category=SAWarning)
        with op.batch_alter_table(table, recreate="always") as batch:
            batch.create_primary_key(f"{table}_pkey", columns)


def upgrade() -> None:
    for table, columns in KEYS.items():
        _rekey(table, columns)
    op.drop_index("ix_credential_connections_profile", "credential_connections")
    op.create_index("ix_credential_connections_profile", "credential_connections",
                    ["account_id", "outbound_voice_profile_id"])
    op.drop_index("ix_call_authorizations_account", "call_authorizations")  # the primary key now
    op.drop_index("ix_call_authorizations_number", "call_authorizations")
    op.create_index("ix_call_authorizations_number", "call_authorizations",
                    ["account_id", "profile_id", "dialled", "authorized_ms"])
    op.drop_index("ix_call_authorizations_active", "call_authorizations")
    op.create_index("ix_call_authorizations_active", "call_authorizations", ["account_id", "profile_id", "expires_ms"],
                    sqlite_where=sa.text("ended_ms IS NULL"), postgresql_where=sa.text("ended_ms IS NULL"))


def downgrade() -> None:
    raise NotImplementedError("ids of several accounts may now clash: there is no way back")
