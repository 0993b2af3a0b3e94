"""The tables. Migrations under `migrations/` create them; this module describes them for queries."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, MetaData, PrimaryKeyConstraint, String, Table, Text

metadata = MetaData()

# A profile is stored as its wire document; the columns beside it exist to filter and sort.
# Every table of an account's resources is keyed by the account and the id: ids are unique within
# an account, not across accounts, so any number of accounts can hold the same fixture's ids.
profiles = Table(
    "outbound_voice_profiles",
    metadata,
    Column("id", BigInteger, nullable=False, autoincrement=False),
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
    # How many of the account's connections use the profile, kept by each connection's write (see
    # ovp.store.documents.Counter).
    Column("connections_count", Integer, nullable=False, server_default="0"),
    Index("ix_outbound_voice_profiles_account_created", "account_id", "created_at", "id"),
    PrimaryKeyConstraint("account_id", "id", name="outbound_voice_profiles_pkey"),
)

# The connections of every kind (credential, IP, FQDN; Call Control and TeXML applications, whose name
# is in connection_name too), each stored as its wire document like a profile, told apart by
# record_type. Its outbound profile is a column too, indexed, so that a profile's connections of
# every kind are counted without reading documents.
connections = Table(
    "connections",
    metadata,
    Column("id", BigInteger, nullable=False, autoincrement=False),
    Column("account_id", String(64), nullable=False),
    Column("record_type", String(32), nullable=False),
    Column("connection_name", String(255), nullable=False),
    Column("connection_name_folded", Text, nullable=False),  # as profiles' name_folded
    Column("active", Boolean, nullable=False),
    Column("outbound_voice_profile_id", BigInteger, nullable=True),
    # A credential connection's SIP user name, lower-cased: unique within the account, as a switch
    # finds a caller's connection by it; an FQDN connection's too, when its authentication has one
    # (Telnyx: unique "among all connections"). Null for the other kinds and an FQDN connection
    # without one, and for a credential connection stored before names were unique that shared its
    # name with an older one (see migration 0007).
    Column("user_name_folded", String(32), nullable=True),
    Column("created_at", String(24), nullable=False),
    Column("updated_at", String(24), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_connections_account_created", "account_id", "created_at", "id"),
    Index("ix_connections_profile", "account_id", "outbound_voice_profile_id"),
    Index("ix_connections_user_name", "account_id", "user_name_folded", unique=True),
    PrimaryKeyConstraint("account_id", "id", name="connections_pkey"),
)

# The contacts a switch reported bound to a credential connection by its REGISTERs (POST
# /ovp/sip_registrations), one row a contact: kept past their expiry, so that the connection's status
# reads Expired, until the switch's next report of the connection or the connection's deletion.
sip_registrations = Table(
    "sip_registrations",
    metadata,
    Column("account_id", String(64), nullable=False),
    Column("connection_id", BigInteger, nullable=False),
    Column("contact", String(512), nullable=False),
    Column("ip_address", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("transport", String(8), nullable=False),
    Column("user_agent", String(255), nullable=True),
    Column("registered_ms", BigInteger, nullable=False),  # on ovp's clock, as expires_ms
    Column("expires_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "connection_id", "contact", name="sip_registrations_pkey"),
)

# An IP connection's IPs, keyed by UUID within an account. An address and port belong to one IP of
# an account at most: a switch finds the connection of a call by where the call comes from.
ips = Table(
    "ips",
    metadata,
    Column("id", String(36), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("connection_id", BigInteger, nullable=True),
    Column("ip_address", String(45), nullable=False),
    Column("port", Integer, nullable=False),
    Column("created_at", String(24), nullable=False),
    Column("updated_at", String(24), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_ips_account_created", "account_id", "created_at", "id"),
    Index("ix_ips_connection", "account_id", "connection_id"),
    Index("ix_ips_address", "account_id", "ip_address", "port", unique=True),
    PrimaryKeyConstraint("account_id", "id", name="ips_pkey"),
)

# An FQDN connection's FQDNs, numbered as the account's other resources are.
fqdns = Table(
    "fqdns",
    metadata,
    Column("id", BigInteger, nullable=False, autoincrement=False),
    Column("account_id", String(64), nullable=False),
    Column("connection_id", BigInteger, nullable=False),
    Column("fqdn", String(253), nullable=False),
    Column("port", Integer, nullable=True),
    Column("dns_record_type", String(8), nullable=False),
    Column("created_at", String(24), nullable=False),
    Column("updated_at", String(24), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_fqdns_account_created", "account_id", "created_at", "id"),
    Index("ix_fqdns_connection", "account_id", "connection_id"),
    Index("ix_fqdns_fqdn", "account_id", "fqdn"),
    PrimaryKeyConstraint("account_id", "id", name="fqdns_pkey"),
)

# Billing groups, keyed by UUID within an account, kept as their wire document.
billing_groups = Table(
    "billing_groups",
    metadata,
    Column("id", String(36), nullable=False),
    Column("account_id", String(64), nullable=False),
    Column("created_at", String(24), nullable=False),
    Column("updated_at", String(24), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("document", Text, nullable=False),
    Index("ix_billing_groups_account_created", "account_id", "created_at", "id"),
    PrimaryKeyConstraint("account_id", "id", name="billing_groups_pkey"),
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
    # The key's own rate limit ("10/second", "0" for none); null: the server's.
    Column("rate_limit", String(32), nullable=True),
)

# An account's rate deck: the per-minute rate (a decimal, as text) of each destination prefix.
rates = Table(
    "rates",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("prefix", String(15), primary_key=True),
    Column("per_minute", String(24), nullable=False),
)

# One row per allowed call. Its slot is taken while ended_ms is null and expires_ms is ahead;
# times are epoch milliseconds and money whole micro-dollars, so that the counters are exact sums
# and comparisons on every backend.
call_authorizations = Table(
    "call_authorizations",
    metadata,
    Column("id", BigInteger, nullable=False, autoincrement=False),
    Column("account_id", String(64), nullable=False),
    Column("profile_id", BigInteger, nullable=False),
    Column("connection_id", BigInteger, nullable=True),
    Column("dialled", String(16), nullable=False),
    Column("caller", String(64), nullable=False),
    Column("country", String(2), nullable=False),
    Column("prefix", String(15), nullable=False),
    Column("per_minute", String(24), nullable=False),
    Column("billing_increment", String(16), nullable=False),
    Column("reserved_micros", BigInteger, nullable=False),
    Column("recording", Text, nullable=False),
    Column("authorized_ms", BigInteger, nullable=False),
    # Until when the call holds its slot: while ringing, the set-up timeout after it was allowed;
    # once answered, its maximum duration after the answer.
    Column("expires_ms", BigInteger, nullable=False),
    Column("ended_ms", BigInteger, nullable=True),
    Column("duration_secs", Integer, nullable=True),
    Column("billed_secs", Integer, nullable=True),
    Column("cost_micros", BigInteger, nullable=True),
    Column("max_duration_secs", Integer, nullable=False, server_default="0"),
    Column("answered_ms", BigInteger, nullable=True),
    # The billing group of the call's profile when the call was allowed.
    Column("billing_group_id", String(36), nullable=True),
    # The call's webhooks (ovp.domain.webhooks.events.Webhooks): what its connection asked for when
    # the call was allowed, and whether its call.hangup went out at its expiry.
    Column("webhooks", Integer, nullable=False, server_default="0"),
    # Ids are time-ordered (ovp.domain.ids): an account's calls newest first are its primary key
    # read backwards.
    PrimaryKeyConstraint("account_id", "id", name="call_authorizations_pkey"),
)
# Each led by the profile or the connection, not the account: an index led by the account would
# look as cheap as the primary key to a statement PostgreSQL plans on an empty table (see
# migration 0013).
Index("ix_call_authorizations_number", call_authorizations.c.profile_id, call_authorizations.c.dialled,
      call_authorizations.c.account_id, call_authorizations.c.authorized_ms)
Index("ix_call_authorizations_active", call_authorizations.c.profile_id, call_authorizations.c.account_id,
      call_authorizations.c.expires_ms,
      sqlite_where=call_authorizations.c.ended_ms.is_(None), postgresql_where=call_authorizations.c.ended_ms.is_(None))
Index("ix_call_authorizations_connection_active", call_authorizations.c.connection_id,
      call_authorizations.c.account_id, call_authorizations.c.expires_ms,
      sqlite_where=call_authorizations.c.ended_ms.is_(None), postgresql_where=call_authorizations.c.ended_ms.is_(None))
# An account's active calls, for its channel limit (D1): led by the expiry, not the account (see
# above), it holds only the calls that hold a slot now or held one not long ago.
Index("ix_call_authorizations_active_by_expiry", call_authorizations.c.expires_ms, call_authorizations.c.account_id,
      sqlite_where=call_authorizations.c.ended_ms.is_(None), postgresql_where=call_authorizations.c.ended_ms.is_(None))

# The calls ovp refused, each with Telnyx's SIP status, code and reason (see migration 0016 for
# why they are not among the allowed ones). The profile and connection are those the call was asked
# for through, when it named them; the country is the destination's, when it is a valid number.
call_refusals = Table(
    "call_refusals",
    metadata,
    Column("id", BigInteger, nullable=False, autoincrement=False),
    Column("account_id", String(64), nullable=False),
    Column("profile_id", BigInteger, nullable=True),
    Column("connection_id", BigInteger, nullable=True),
    Column("billing_group_id", String(36), nullable=True),
    Column("dialled", String(64), nullable=False),
    Column("caller", String(64), nullable=False),
    Column("country", String(2), nullable=True),
    Column("sip_status", Integer, nullable=False),
    Column("code", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("decided_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("account_id", "id", name="call_refusals_pkey"),
)

# An account's own settings: a row only for an account that changed one from its default.
accounts = Table(
    "accounts",
    metadata,
    Column("account_id", String(64), primary_key=True),
    # Telnyx's account-wide limit of concurrent outbound calls (D1); null: none.
    Column("channel_limit", Integer, nullable=True),
)

# What the ended calls of each profile cost, per UTC day.
daily_spend = Table(
    "daily_spend",
    metadata,
    Column("account_id", String(64), primary_key=True),
    Column("profile_id", BigInteger, primary_key=True, autoincrement=False),
    Column("day", String(10), primary_key=True),
    Column("spent_micros", BigInteger, nullable=False),
)

# One row, written only by the probes that check whether the database takes writes again after an
# outage (see ovp.store.health); it belongs to no account.
ovp_probe = Table(
    "ovp_probe",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("beat", BigInteger, nullable=False),
)

# The call events ovp sends to a connection's webhook URL, each written in the transaction of the
# decision it reports, then delivered at least once (ovp.webhooks). A row is also the event's
# delivery, as GET /v2/webhook_deliveries shows it: its attempts, newest first, as JSON.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", String(36), nullable=False),  # the delivery's UUID
    Column("event_id", String(36), nullable=False),  # the event's UUID, the same on every attempt
    Column("account_id", String(64), nullable=False),
    Column("call_id", BigInteger, nullable=False),
    Column("seq", Integer, nullable=False),  # the event's place among its call's: sent in that order
    Column("connection_id", BigInteger, nullable=False),
    Column("event_type", String(32), nullable=False),
    Column("payload", Text, nullable=False),  # the signed body, as sent on every attempt
    Column("created_ms", BigInteger, nullable=False),  # wall clock: retries run on real time
    Column("status", String(10), nullable=False),  # pending, delivered or failed
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("claimed_until_ms", BigInteger, nullable=True),  # a server is sending it until then
    Column("attempt_count", Integer, nullable=False, server_default="0"),
    Column("attempts", Text, nullable=False, server_default="[]"),
    Column("finished_ms", BigInteger, nullable=True),
    PrimaryKeyConstraint("id", name="webhook_events_pkey"),
)
# What is due, oldest first, and among events due at one moment (a receiver's, made due together
# when it answers again) the calls in order, each call's events in theirs: a claim's LIMIT then
# takes whole calls' runs of events rather than cut them apart. Only the pending events, so it
# stays as small as the backlog.
Index("ix_webhook_events_due", webhook_events.c.next_attempt_ms, webhook_events.c.call_id, webhook_events.c.seq,
      sqlite_where=webhook_events.c.status == "pending", postgresql_where=webhook_events.c.status == "pending")
# A call's events in order. (A connection's pending events, drawn forward when its receiver is back,
# are found among the pending ones: rarely asked for, not worth an index on every event's write.)
Index("ix_webhook_events_call", webhook_events.c.account_id, webhook_events.c.call_id, webhook_events.c.seq)
# An account's deliveries, newest first.
Index("ix_webhook_events_account", webhook_events.c.account_id, webhook_events.c.created_ms)

# The deployment's Ed25519 key pair: every server signs every event with it (one row, id 1).
webhook_keys = Table(
    "webhook_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("private_key", String(64), nullable=False),  # base64 of the 32-byte seed
    Column("public_key", String(64), nullable=False),  # base64 of the 32-byte key, as the SDKs take it
    Column("created_ms", BigInteger, nullable=False),
)
