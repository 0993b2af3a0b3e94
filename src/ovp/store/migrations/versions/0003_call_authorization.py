"""Rate decks, call authorizations and daily spend.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rates",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("prefix", sa.String(15), primary_key=True),
        sa.Column("per_minute", sa.String(24), nullable=False),
    )
    op.create_table(
        "call_authorizations",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.BigInteger(), nullable=False),
        sa.Column("connection_id", sa.BigInteger(), nullable=True),
        sa.Column("dialled", sa.String(16), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("prefix", sa.String(15), nullable=False),
        sa.Column("per_minute", sa.String(24), nullable=False),
        sa.Column("billing_increment", sa.String(16), nullable=False),
        sa.Column("reserved_micros", sa.BigInteger(), nullable=False),
        sa.Column("recording", sa.Text(), nullable=False),
        sa.Column("authorized_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.Column("ended_ms", sa.BigInteger(), nullable=True),
        sa.Column("duration_secs", sa.Integer(), nullable=True),
        sa.Column("billed_secs", sa.Integer(), nullable=True),
        sa.Column("cost_micros", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_call_authorizations_account", "call_authorizations", ["account_id", "id"])
    op.create_index("ix_call_authorizations_number", "call_authorizations", ["profile_id", "dialled", "authorized_ms"])
    op.create_index(
        "ix_call_authorizations_active", "call_authorizations", ["profile_id", "expires_ms"],
        sqlite_where=sa.text("ended_ms IS NULL"), postgresql_where=sa.text("ended_ms IS NULL"),
    )
    op.create_table(
        "daily_spend",
        sa.Column("profile_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("spent_micros", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("daily_spend")
    op.drop_index("ix_call_authorizations_active", "call_authorizations")
    op.drop_index("ix_call_authorizations_number", "call_authorizations")
    op.drop_index("ix_call_authorizations_account", "call_authorizations")
    op.drop_table("call_authorizations")
    op.drop_table("rates")
