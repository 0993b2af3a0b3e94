"""What the generated tests find in the account before each of them: one resource of every kind
they name, with the ids they name where those are ids ovp can hold (the rest are substituted, see
`substitutions.py`), and a call whose webhook makes the delivery test_webhook_deliveries.py reads."""

from __future__ import annotations

from typing import Any

# The ids the generated tests give, valid ids for ovp: seeded as they are.
PROFILE = "1293384261075731499"  # every file's outbound_voice_profile_id, and test_outbound_voice_profiles.py's id
BILLING_GROUP = "f5586561-8ff0-4291-a0ac-84fe544797bd"  # test_billing_groups.py's id
PROFILES_BILLING_GROUP = "6a09cdc3-8948-47f0-aa62-74ac943d6c58"  # the billing_group_id its profiles are given
IP = "6a09cdc3-8948-47f0-aa62-74ac943d6c58"  # test_ips.py's id (ovp's IP ids are UUIDs too)
FQDN_CONNECTION = "1516447646313612565"  # test_fqdns.py's connection_id
FQDN = "1517907029795014409"  # test_fqdns.py's id
CREDENTIAL_CONNECTION = "1293384261075731461"  # test_connections.py's connection_id

# In place of ids ovp cannot hold ("id", a UUID for a connection), or of one id the tests give to
# several kinds of connection (which share their ids in ovp, as in Telnyx).
IP_CONNECTION = "1293384261075731462"
CALL_CONTROL_APPLICATION = "1293384261075731463"
TEXML_APPLICATION = "1293384261075731464"

# Nothing listens there: the delivery fails, and exists as soon as the call is decided.
WEBHOOK_URL = "http://127.0.0.1:9/webhooks"

SEED: dict[str, Any] = {
    "billing_groups": [{"id": BILLING_GROUP, "name": "sdk tests"},
                       {"id": PROFILES_BILLING_GROUP, "name": "sdk tests' profiles"}],
    # No connection names the profile, so that the tests may delete it.
    "data": [{"id": PROFILE, "name": "office"}],
    "credential_connections": [{"id": CREDENTIAL_CONNECTION, "connection_name": "sdk tests",
                                "user_name": "sdktests", "password": "my123secure456password789",
                                "webhook_event_url": WEBHOOK_URL}],
    "ip_connections": [{"id": IP_CONNECTION, "connection_name": "sdk tests ip"}],
    "fqdn_connections": [{"id": FQDN_CONNECTION, "connection_name": "sdk tests fqdn"}],
    "call_control_applications": [{"id": CALL_CONTROL_APPLICATION, "application_name": "sdk-tests",
                                   "webhook_event_url": WEBHOOK_URL}],
    "texml_applications": [{"id": TEXML_APPLICATION, "friendly_name": "sdk-tests", "voice_url": WEBHOOK_URL}],
    "ips": [{"id": IP, "ip_address": "192.0.2.10", "connection_id": IP_CONNECTION}],
    "fqdns": [{"id": FQDN, "fqdn": "pbx.example.com", "dns_record_type": "a", "connection_id": FQDN_CONNECTION}],
}

# Made before each test of these files: a call refused (the connection has no profile), whose
# call.hangup webhook is the delivery the tests read back.
CALL_FOR = ("test_webhook_deliveries.py",)
CALL = {"connection_id": CREDENTIAL_CONNECTION, "to": "+14155552671", "from": "+12025550100"}
