"""A connection as `/v2/connections` shows it: the settings every kind of connection has, with its
outbound profile at the top level, as Telnyx's `Connection` answers them (SDK `telnyx` 4.189,
`types/connection.py`; npm `telnyx` 7.24, `resources/connections`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# What every kind keeps under these names, answered as kept.
SHARED_FIELDS = ("id", "record_type", "active", "anchorsite_override", "connection_name", "tags",
                 "webhook_api_version", "webhook_event_failover_url", "webhook_event_url",
                 "created_at", "updated_at")


def summary(connection: Mapping[str, Any]) -> dict[str, Any]:
    view = {field: connection[field] for field in SHARED_FIELDS}
    view["outbound_voice_profile_id"] = connection["outbound"]["outbound_voice_profile_id"]
    return view
