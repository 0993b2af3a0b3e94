"""Credential connections.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "credential_connections",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("connection_name", sa.String(255), nullable=False),
        sa.Column("connection_name_folded", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("outbound_voice_profile_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.String(24), nullable=False),
        sa.Column("updated_at", sa.String(24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
    )
    op.create_index(
        "ix_credential_connections_account_created", "credential_connections", ["account_id", "created_at", "id"]
    )
    op.create_index("ix_credential_connections_profile", "credential_connections", ["outbound_voice_profile_id"])


def downgrade() -> None:
    op.drop_index("ix_credential_connections_profile", "credential_connections")
    op.drop_index("ix_credential_connections_account_created", "credential_connections")
    op.drop_table("credential_connections")
