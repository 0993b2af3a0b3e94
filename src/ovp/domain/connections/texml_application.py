"""The TeXML application: a connection whose calls follow the TeXML its `voice_url` answers. It
has no `webhook_event_url`, so ovp sends no call webhooks for its calls. Fields and defaults from
the SDKs' types (see ovp.domain.connections.applications)."""

from __future__ import annotations

from typing import Literal

from ovp.domain.connections.applications import ApplicationChanges, application_kind
from ovp.domain.connections.fields import ConnectionName, Url

RECORD_TYPE = "texml_application"


class TexmlApplicationChanges(ApplicationChanges):
    friendly_name: ConnectionName = ""
    anchorsite_override: Literal["Latency", "Chicago, IL", "Ashburn, VA", "San Jose, CA", "Sydney, Australia",
                                 "Amsterdam, Netherlands", "London, UK", "Toronto, Canada", "Vancouver, Canada",
                                 "Frankfurt, Germany"] = "Latency"
    status_callback: Url | None = None
    status_callback_method: Literal["get", "post"] = "post"
    voice_fallback_url: Url | None = None
    voice_method: Literal["get", "post"] = "post"
    voice_url: Url = ""  # a placeholder: a create must send it


class NewTexmlApplication(TexmlApplicationChanges):
    friendly_name: ConnectionName
    voice_url: Url


KIND = application_kind(RECORD_TYPE, TexmlApplicationChanges, NewTexmlApplication)
