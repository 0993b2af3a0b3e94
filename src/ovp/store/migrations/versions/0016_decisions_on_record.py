"""Every decision on record: a refused call gets a row of its own, and every call the billing group
its profile had when it was decided.

Refusals live in a table of their own, not beside the allowed calls: the counters of the call
rules read the allowed calls' indexes on every authorization, and a switch retrying against a
full profile can refuse thousands of calls a second. A refusal's row has only its primary key.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_authorizations") as batch:
        batch.add_column(sa.Column("billing_group_id", sa.String(36), nullable=True))
    op.create_table(
        "call_refusals",
        sa.Column("id", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("profile_id", sa.BigInteger, nullable=True),
        sa.Column("connection_id", sa.BigInteger, nullable=True),
        sa.Column("billing_group_id", sa.String(36), nullable=True),
        sa.Column("dialled", sa.String(64), nullable=False),
        sa.Column("caller", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2), nullable=True),
        sa.Column("sip_status", sa.Integer, nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("decided_ms", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("account_id", "id", name="call_refusals_pkey"),
    )


def downgrade() -> None:
    op.drop_table("call_refusals")
    with op.batch_alter_table("call_authorizations") as batch:
        batch.drop_column("billing_group_id")
