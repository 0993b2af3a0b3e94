"""An FQDN connection's FQDNs (`/v2/fqdns`).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fqdns",
        sa.Column("id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.BigInteger(), nullable=False),
        sa.Column("fqdn", sa.String(253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("dns_record_type", sa.String(8), nullable=False),
        sa.Column("created_at", sa.String(24), nullable=False),
        sa.Column("updated_at", sa.String(24), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name="fqdns_pkey"),
    )
    op.create_index("ix_fqdns_account_created", "fqdns", ["account_id", "created_at", "id"])
    op.create_index("ix_fqdns_connection", "fqdns", ["account_id", "connection_id"])
    op.create_index("ix_fqdns_fqdn", "fqdns", ["account_id", "fqdn"])


def downgrade() -> None:
    op.drop_table("fqdns")
