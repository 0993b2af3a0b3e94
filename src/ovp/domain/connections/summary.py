"""A connection as `/v2/connections` shows it: the settings every kind of connection has, with its
outbound profile at the top level, as Telnyx's `Connection` answers them (SDK `telnyx` 4.189,
`types/connection.py`; npm `telnyx` 7.24, `resources/connections`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ovp.domain.fields import MAX_INT32

# What the kinds keep under these names, answered as kept; null where a kind has no such field (a
# TeXML application has no webhook settings).
SHARED_FIELDS = ("id", "record_type", "active", "anchorsite_override", "tags", "webhook_api_version",
                 "webhook_event_failover_url", "webhook_event_url", "created_at", "updated_at")
# Where each kind keeps its name: SIP connections in connection_name, applications in their own field.
NAME_FIELDS = ("connection_name", "application_name", "friendly_name")


def name_of(connection: Mapping[str, Any]) -> str:
    """A connection's name, whatever its kind calls it."""
    name: str = next(connection[field] for field in NAME_FIELDS if field in connection)
    return name


def summary(connection: Mapping[str, Any]) -> dict[str, Any]:
    view = {field: connection.get(field) for field in SHARED_FIELDS}
    view["connection_name"] = name_of(connection)
    view["outbound_voice_profile_id"] = connection["outbound"]["outbound_voice_profile_id"]
    return view


# Telnyx's connection types, each counted under its name in `counts` (SDK `telnyx` 4.189,
# `types/connection_retrieve_count_response.py`); ovp has the first five, the others count 0.
COUNTED_KINDS = {
    "call_control_applications": "call_control_application",
    "credential_connections": "credential_connection",
    "fqdn_connections": "fqdn_connection",
    "ip_connections": "ip_connection",
    "texml_applications": "texml_application",
    "external_connections": None, "fax_connections": None, "microsoft_teams_sbc_connections": None,
    "mobile_voice_connections": None, "operator_connect_connections": None,
    "third_party_provider_connections": None, "uac_connections": None, "zoom_sbc_connections": None,
}
# ovp limits no account's number of connections: the one limit it answers is the largest a 32-bit
# integer holds, as Telnyx's global limit would be given.
NO_CONNECTION_LIMIT = MAX_INT32


def connection_count(by_record_type: Mapping[str, int]) -> dict[str, Any]:
    counts = {name: by_record_type.get(kind, 0) if kind else 0 for name, kind in COUNTED_KINDS.items()}
    return {"record_type": "connections_count", "counts": counts, "limits": {"global_limit": NO_CONNECTION_LIMIT}}
