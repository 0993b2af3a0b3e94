"""A credential connection's user_name, case-folded, in a column of its own: unique within an
account, so that a switch authenticating a SIP caller finds exactly one connection by it.

Connections stored before this revision may share a user_name. The oldest of each such group keeps
it for SIP authentication; the others are left without the column (they keep their documents as
they are) until their user_name is changed, and the migration says which they are.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import logging

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

log = logging.getLogger("ovp.migrations")


def upgrade() -> None:
    with op.batch_alter_table("credential_connections") as batch:
        batch.add_column(sa.Column("user_name_folded", sa.String(32), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT account_id, id, document FROM credential_connections ORDER BY account_id, created_at, id"
    )).all()
    taken: set[tuple[str, str]] = set()
    for account_id, connection_id, document in rows:
        folded = str(orjson.loads(document)["user_name"]).lower()
        if (account_id, folded) in taken:
            log.warning("credential connection %s of account %s shares its user_name with an older connection: "
                        "it cannot authenticate SIP calls until its user_name is changed", connection_id, account_id)
            continue
        taken.add((account_id, folded))
        connection.execute(
            sa.text("UPDATE credential_connections SET user_name_folded = :folded "
                    "WHERE account_id = :account_id AND id = :id"),
            {"folded": folded, "account_id": account_id, "id": connection_id},
        )
    op.create_index("ix_credential_connections_user_name", "credential_connections",
                    ["account_id", "user_name_folded"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_credential_connections_user_name", "credential_connections")
    with op.batch_alter_table("credential_connections") as batch:
        batch.drop_column("user_name_folded")
