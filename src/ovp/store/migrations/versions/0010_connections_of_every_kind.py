"""One table for the connections of every kind (credential, IP, FQDN), told apart by record_type:
a profile's connections are counted, and its delete refused, over all of them at once, and a
connection id is unique across kinds within an account, as Telnyx's are.

The table credential_connections becomes connections; its rows are credential connections.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INDEXES = {  # old name: (new name, columns, unique)
    "ix_credential_connections_account_created": ("ix_connections_account_created",
                                                  ["account_id", "created_at", "id"], False),
    "ix_credential_connections_profile": ("ix_connections_profile", ["account_id", "outbound_voice_profile_id"], False),
    "ix_credential_connections_user_name": ("ix_connections_user_name", ["account_id", "user_name_folded"], True),
}


def upgrade() -> None:
    for old in _INDEXES:
        op.drop_index(old, "credential_connections")
    op.rename_table("credential_connections", "connections")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE connections RENAME CONSTRAINT credential_connections_pkey TO connections_pkey")
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("record_type", sa.String(32), nullable=False,
                                   server_default="credential_connection"))
    with op.batch_alter_table("connections") as batch:
        batch.alter_column("record_type", server_default=None)
    for new, columns, unique in _INDEXES.values():
        op.create_index(new, "connections", columns, unique=unique)


def downgrade() -> None:
    op.execute("DELETE FROM connections WHERE record_type <> 'credential_connection'")
    for new, _columns, _unique in _INDEXES.values():
        op.drop_index(new, "connections")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("record_type")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE connections RENAME CONSTRAINT connections_pkey TO credential_connections_pkey")
    op.rename_table("connections", "credential_connections")
    for old, (_new, columns, unique) in _INDEXES.items():
        op.create_index(old, "credential_connections", columns, unique=unique)
