"""The contacts bound to credential connections by the REGISTERs a switch reports
(`POST /ovp/sip_registrations`).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sip_registrations",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("connection_id", sa.BigInteger(), nullable=False),
        sa.Column("contact", sa.String(512), nullable=False),
        sa.Column("ip_address", sa.String(45), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("transport", sa.String(8), nullable=False),
        sa.Column("user_agent", sa.String(255), nullable=True),
        sa.Column("registered_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "connection_id", "contact", name="sip_registrations_pkey"),
    )


def downgrade() -> None:
    op.drop_table("sip_registrations")
