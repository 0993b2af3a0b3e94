"""An IP connection's IPs (`/v2/ips`), keyed by UUID within an account; an address and port belong
to one IP of an account at most.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ips",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.BigInteger(), nullable=True),
        sa.Column("ip_address", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(24), nullable=False),
        sa.Column("updated_at", sa.String(24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name="ips_pkey"),
    )
    op.create_index("ix_ips_account_created", "ips", ["account_id", "created_at", "id"])
    op.create_index("ix_ips_connection", "ips", ["account_id", "connection_id"])
    op.create_index("ix_ips_address", "ips", ["account_id", "ip_address", "port"], unique=True)


def downgrade() -> None:
    op.drop_table("ips")
