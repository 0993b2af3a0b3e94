"""A call is first ringing, then answered: when it was answered, and how long it may last from then.

An allowed call holds its slot until `expires_ms`: while ringing, the set-up timeout after it was
allowed; once answered, its maximum duration after the answer. The calls stored before this
revision were counted as in progress from the moment they were allowed: they are taken as answered
then, with the maximum duration they were given.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_authorizations") as batch:
        batch.add_column(sa.Column("max_duration_secs", sa.Integer, nullable=False, server_default="0"))
        batch.add_column(sa.Column("answered_ms", sa.BigInteger, nullable=True))
    op.execute("UPDATE call_authorizations SET answered_ms = authorized_ms, "
               "max_duration_secs = (expires_ms - authorized_ms) / 1000")


def downgrade() -> None:
    with op.batch_alter_table("call_authorizations") as batch:
        batch.drop_column("answered_ms")
        batch.drop_column("max_duration_secs")
