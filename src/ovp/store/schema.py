"""The tables. Migrations under `migrations/` create them; this module describes them for queries."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# A profile is stored as its wire document; the columns beside it exist to filter and sort.
profiles = Table(
    "outbound_voice_profiles",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("account_id", String(64), nullable=False),
    Column("name", String(255), nullable=False),
    # The name case-folded by Python, for the case-insensitive name filter and sort: SQLite's
    # lower() folds ASCII only. Text, since folding can lengthen a name ("ß" becomes "ss").
    Column("name_folded", Text, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("traffic_type", String(32), nullable=False),
    Column("service_plan", String(32), nullable=False),
    Column("usage_payment_method", String(32), nullable=False),
    Column("created_at", String(24), nullable=False),
    Column("updated_at", String(24), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_outbound_voice_profiles_account_created", "account_id", "created_at", "id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("account_id", String(64), nullable=False),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("shown_prefix", String(16), nullable=False),
    Column("created_at", String(24), nullable=False),
    Column("revoked_at", String(24), nullable=True),
)
