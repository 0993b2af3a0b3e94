"""The Call Control application: a connection whose calls Telnyx's Call Control API drives, its
events sent to `webhook_event_url`. Fields and defaults from the SDKs' types (see
ovp.domain.connections.applications)."""

from __future__ import annotations

from typing import Literal

from ovp.domain.connections.applications import ApplicationChanges, application_kind
from ovp.domain.connections.fields import ConnectionName, FailoverUrl, Url, WebhookTimeout

RECORD_TYPE = "call_control_application"


class CallControlApplicationChanges(ApplicationChanges):
    application_name: ConnectionName = ""
    # This kind's own list of sites, as its SDK types give it (Chennai, and no Vancouver or Frankfurt).
    anchorsite_override: Literal["Latency", "Chicago, IL", "Ashburn, VA", "San Jose, CA", "London, UK",
                                 "Chennai, IN", "Amsterdam, Netherlands", "Toronto, Canada",
                                 "Sydney, Australia"] = "Latency"
    redact_dtmf_debug_logging: bool = False
    webhook_api_version: Literal["1", "2"] = "1"
    webhook_event_failover_url: FailoverUrl | None = ""
    webhook_event_url: Url = ""  # a placeholder: a create must send it
    webhook_timeout_secs: WebhookTimeout | None = None


class NewCallControlApplication(CallControlApplicationChanges):
    application_name: ConnectionName
    webhook_event_url: Url


KIND = application_kind(RECORD_TYPE, CallControlApplicationChanges, NewCallControlApplication)
