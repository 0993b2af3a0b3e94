"""A connection's calls in progress (`GET /v2/connections/{id}/active_calls`) read by an index.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_call_authorizations_connection_active", "call_authorizations",
                    ["account_id", "connection_id", "expires_ms"],
                    sqlite_where=sa.text("ended_ms IS NULL"), postgresql_where=sa.text("ended_ms IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_call_authorizations_connection_active", "call_authorizations")
