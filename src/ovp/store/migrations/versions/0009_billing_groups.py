"""Billing groups (`/v2/billing_groups`), keyed by UUID within an account.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_groups",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(24), nullable=False),
        sa.Column("updated_at", sa.String(24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name="billing_groups_pkey"),
    )
    op.create_index("ix_billing_groups_account_created", "billing_groups", ["account_id", "created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_billing_groups_account_created", "billing_groups")
    op.drop_table("billing_groups")
