"""FQDN connections stored before this revision get the fields added since, at their defaults:
`outbound.tech_prefix`, null, and what only their authentication has, `fqdn_authentication` with its
`ip_authentication_method` null. A connection is kept as its wire document, so one stored without a
field would be answered without it.

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _with_new_fields(document: dict[str, Any]) -> dict[str, Any]:
    document["outbound"].setdefault("tech_prefix", None)
    document.setdefault("fqdn_authentication", {"ip_authentication_method": None})
    return document


def upgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT account_id, id, document FROM connections WHERE record_type = 'fqdn_connection'"
    )).all()
    for account_id, connection_id, document in rows:
        connection.execute(
            sa.text("UPDATE connections SET document = :document WHERE account_id = :account_id AND id = :id"),
            {"document": orjson.dumps(_with_new_fields(orjson.loads(document))).decode(),
             "account_id": account_id, "id": connection_id},
        )


def downgrade() -> None:
    """The fields stay: the code of the revision before answers a document as it is kept."""
