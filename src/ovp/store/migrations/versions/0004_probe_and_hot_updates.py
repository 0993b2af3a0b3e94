"""A row for probing whether the database takes writes again, and room for HOT updates.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Tables whose rows are updated over and over (a profile PATCHed, a day's spend booked). PostgreSQL
# keeps a row's new version on its own page when there is room and no indexed column changed (a
# HOT update): no new index entries, and the old version is pruned as the page is read. Half of
# each page is kept free for that.
FREQUENTLY_UPDATED = ("outbound_voice_profiles", "daily_spend")
FILLFACTOR = 50


def upgrade() -> None:
    probe = op.create_table(
        "ovp_probe",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("beat", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(probe, [{"id": 1, "beat": 0}])
    if op.get_bind().dialect.name == "postgresql":
        for table in FREQUENTLY_UPDATED:
            op.execute(f"ALTER TABLE {table} SET (fillfactor = {FILLFACTOR})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FREQUENTLY_UPDATED:
            op.execute(f"ALTER TABLE {table} RESET (fillfactor)")
    op.drop_table("ovp_probe")
