"""The due events' index in the order the sender claims them: by when each is due, then by call and
the event's place among its call's. A receiver's waiting events are all made due at one moment when
it answers again; ordered by that moment alone, a claim's LIMIT took them in whatever order their
rows lay, and cut calls' events apart (the later ones put off a second each, the drain slowed
sevenfold on PostgreSQL).

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

_PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    op.drop_index("ix_webhook_events_due", table_name="webhook_events")
    op.create_index("ix_webhook_events_due", "webhook_events", ["next_attempt_ms", "call_id", "seq"],
                    sqlite_where=_PENDING, postgresql_where=_PENDING)


def downgrade() -> None:
    op.drop_index("ix_webhook_events_due", table_name="webhook_events")
    op.create_index("ix_webhook_events_due", "webhook_events", ["next_attempt_ms"],
                    sqlite_where=_PENDING, postgresql_where=_PENDING)
