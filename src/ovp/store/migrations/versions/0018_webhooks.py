"""Call webhooks: the events ovp sends, kept until delivered, and the key that signs them.

An event is written in the transaction of the decision it reports, so a decision rolled back sends
nothing and a server killed with events unsent sends them after its restart. Each call remembers
what its connection asked for (events, costs) when it was allowed, so its answer and end need not
read the connection.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    with op.batch_alter_table("call_authorizations") as batch:
        batch.add_column(sa.Column("webhooks", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "webhook_events",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("event_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("call_id", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("connection_id", sa.BigInteger, nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("next_attempt_ms", sa.BigInteger, nullable=False),
        sa.Column("claimed_until_ms", sa.BigInteger, nullable=True),
        sa.Column("attempt_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("attempts", sa.Text, nullable=False, server_default="[]"),
        sa.Column("finished_ms", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="webhook_events_pkey"),
    )
    op.create_index("ix_webhook_events_due", "webhook_events", ["next_attempt_ms"],
                    sqlite_where=_PENDING, postgresql_where=_PENDING)
    op.create_index("ix_webhook_events_call", "webhook_events", ["account_id", "call_id", "seq"])
    op.create_index("ix_webhook_events_account", "webhook_events", ["account_id", "created_ms"])
    op.create_table(
        "webhook_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("private_key", sa.String(64), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("created_ms", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_keys")
    op.drop_table("webhook_events")
    with op.batch_alter_table("call_authorizations") as batch:
        batch.drop_column("webhooks")
