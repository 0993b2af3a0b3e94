"""An account's settings (its channel limit), and an index that counts an account's active calls.

The index is led by the expiry, not the account, for the reason migration 0013 gives: an index led
by the account would look as cheap as the primary key to a statement PostgreSQL plans on an empty
table. Partial, it holds only the calls not ended.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

ACTIVE = sa.text("ended_ms IS NULL")


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("channel_limit", sa.Integer, nullable=True),
    )
    op.create_index("ix_call_authorizations_active_by_expiry", "call_authorizations", ["expires_ms", "account_id"],
                    sqlite_where=ACTIVE, postgresql_where=ACTIVE)


def downgrade() -> None:
    op.drop_index("ix_call_authorizations_active_by_expiry", "call_authorizations")
    op.drop_table("accounts")
