"""The credential connection: its defaults, what a client may send, and how changes apply.

Like a profile, a connection is kept as its wire document. Its defaults are Telnyx's, written once,
as the defaults of the models below: `new_connection` is the update model with nothing sent.
What ovp reads of a connection is its outbound profile; the other settings are kept and answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from ovp.domain.connections.fields import (
    AttenuationLimit,
    ChannelLimit,
    Codecs,
    ConnectionName,
    FailoverUrl,
    JitterBufferMsec,
    Password,
    ProfileReference,
    PushCredentialId,
    ReportFrequency,
    ShortText,
    Timeout1xx,
    Timeout2xx,
    Url,
    UserName,
    WebhookTimeout,
)
from ovp.domain.errors import Problem, ProblemList
from ovp.domain.fields import CountryCode, Tags
from ovp.domain.patch import merge_patch
from ovp.domain.resource import NUMERIC_IDS, Kind
from ovp.domain.validation import BAD_VALUE, parse_object

RECORD_TYPE = "credential_connection"
# Telnyx answers the password in full only on create and on an update that changed it; otherwise
# this stands in its place (a mask, not a secret).
MASKED_PASSWORD = "********"  # noqa: S105
DEFAULT_CODECS = ["G722", "G711U", "G711A", "G729", "OPUS", "H.264"]


class OutboundDocument(TypedDict):
    ani_override: str
    ani_override_type: str
    call_parking_enabled: bool
    channel_limit: int | None
    generate_ringback_tone: bool
    instant_ringback_enabled: bool
    localization: str
    outbound_voice_profile_id: str | None
    t38_reinvite_source: str


class ConnectionDocument(TypedDict):
    id: str
    record_type: str
    active: bool
    anchorsite_override: str
    android_push_credential_id: str | None
    bridge_generate_comfort_noise_on_cn: bool
    call_cost_in_webhooks: bool
    connection_name: str
    conversation_persistence: bool
    default_on_hold_comfort_noise_enabled: bool
    dtmf_type: str
    encode_contact_header_enabled: bool
    encrypted_media: str | None
    # Settings ovp keeps and answers but never reads are typed loosely.
    inbound: dict[str, Any]
    ios_push_credential_id: str | None
    jitter_buffer: dict[str, Any]
    noise_suppression: str
    noise_suppression_details: dict[str, Any]
    onnet_t38_passthrough_enabled: bool
    outbound: OutboundDocument
    password: str
    rtcp_settings: dict[str, Any]
    sip_uri_calling_preference: str
    tags: list[str]
    user_name: str
    webhook_api_version: str
    webhook_event_failover_url: str | None
    webhook_event_url: str | None
    webhook_timeout_secs: int | None
    created_at: str
    updated_at: str


class _Changes(BaseModel):
    # Strict, and unknown or read-only fields ignored, as for profiles. Each default is Telnyx's.
    model_config = ConfigDict(extra="ignore", strict=True)


class InboundBase(_Changes):
    """What every kind of connection's `inbound` has."""

    ani_number_format: Literal["+E.164", "E.164", "+E.164-national", "E.164-national"] = "E.164-national"
    channel_limit: ChannelLimit | None = None
    codecs: Codecs = Field(default_factory=lambda: list(DEFAULT_CODECS))
    default_routing_method: Literal["sequential", "round-robin"] | None = None
    dnis_number_format: Literal["+e164", "e164", "national", "sip_username"] = "e164"
    generate_ringback_tone: bool = False
    isup_headers_enabled: bool = False
    prack_enabled: bool = False
    shaken_stir_enabled: bool = False
    sip_compact_headers_enabled: bool = True
    timeout_1xx_secs: Timeout1xx = 3
    timeout_2xx_secs: Timeout2xx = 90


class InboundChanges(InboundBase):
    simultaneous_ringing: Literal["disabled", "enabled"] = "disabled"


class OutboundChanges(_Changes):
    ani_override: ShortText = ""
    ani_override_type: Literal["always", "normal", "emergency"] = "always"
    call_parking_enabled: bool = False
    channel_limit: ChannelLimit | None = None
    generate_ringback_tone: bool = False
    instant_ringback_enabled: bool = True
    localization: CountryCode = "US"
    outbound_voice_profile_id: ProfileReference | None = None
    t38_reinvite_source: Literal["telnyx", "customer", "disabled", "passthru", "caller-passthru",
                                 "callee-passthru"] = "telnyx"


class RtcpChanges(_Changes):
    capture_enabled: bool = False
    port: Literal["rtcp-mux", "rtp+1"] = "rtp+1"
    report_frequency_secs: ReportFrequency = 5


class JitterBufferChanges(_Changes):
    enable_jitter_buffer: bool = False
    jitterbuffer_msec_max: JitterBufferMsec | None = None
    jitterbuffer_msec_min: JitterBufferMsec | None = None


class NoiseSuppressionDetailsChanges(_Changes):
    engine: Literal["denoiser", "deep_filter_net", "deep_filter_net_large", "krisp_viva_tel", "krisp_viva_tel_lite",
                    "krisp_viva_promodel", "krisp_viva_ss", "quail_voice_focus"] = "denoiser"
    attenuation_limit: AttenuationLimit | None = None  # null: the engine's own default


SHARED_NESTED: dict[str, type[_Changes]] = {
    "rtcp_settings": RtcpChanges,
    "jitter_buffer": JitterBufferChanges,
    "noise_suppression_details": NoiseSuppressionDetailsChanges,
}
_NESTED: dict[str, type[_Changes]] = {"inbound": InboundChanges, "outbound": OutboundChanges, **SHARED_NESTED}


class SharedChanges(_Changes):
    """The settings every kind of connection has, with Telnyx's defaults."""

    connection_name: ConnectionName = ""
    active: bool = True
    anchorsite_override: Literal["Latency", "Chicago, IL", "Ashburn, VA", "San Jose, CA", "Sydney, Australia",
                                 "Amsterdam, Netherlands", "London, UK", "Toronto, Canada", "Vancouver, Canada",
                                 "Frankfurt, Germany"] = "Latency"
    android_push_credential_id: PushCredentialId | None = None
    bridge_generate_comfort_noise_on_cn: bool = False
    call_cost_in_webhooks: bool = False
    conversation_persistence: bool = False
    default_on_hold_comfort_noise_enabled: bool = False
    dtmf_type: Literal["RFC 2833", "Inband", "SIP INFO"] = "RFC 2833"
    encode_contact_header_enabled: bool = False
    encrypted_media: Literal["SRTP"] | None = None
    ios_push_credential_id: PushCredentialId | None = None
    jitter_buffer: JitterBufferChanges | None = None
    noise_suppression: Literal["inbound", "outbound", "both", "disabled"] = "disabled"
    noise_suppression_details: NoiseSuppressionDetailsChanges | None = None
    onnet_t38_passthrough_enabled: bool = False
    rtcp_settings: RtcpChanges | None = None
    tags: Tags = Field(default_factory=list)
    webhook_api_version: Literal["1", "2", "texml"] = "1"
    webhook_event_failover_url: FailoverUrl | None = ""
    webhook_event_url: Url | None = None
    webhook_timeout_secs: WebhookTimeout | None = None


class ConnectionChanges(SharedChanges):
    """What a client may send on update: any field, none required. The three credentials' defaults
    are placeholders that never apply, since only the fields sent are applied."""

    user_name: UserName = ""
    password: Password = ""
    inbound: InboundChanges | None = None
    outbound: OutboundChanges | None = None
    sip_uri_calling_preference: Literal["disabled", "unrestricted", "internal"] = "disabled"


class NewConnection(ConnectionChanges):
    """What a client may send on create: `connection_name`, `user_name` and `password` are required."""

    connection_name: ConnectionName
    user_name: UserName
    password: Password


def _nested_defaults(field: str) -> dict[str, Any]:
    return _NESTED[field]().model_dump()


_NESTED_DEFAULTS = {field: partial(_nested_defaults, field) for field in _NESTED}


def new_connection(connection_id: int, now: str) -> ConnectionDocument:
    """A connection with every default and empty credentials, before the client's fields apply."""
    defaults = ConnectionChanges().model_dump()
    document = {"id": str(connection_id), "record_type": RECORD_TYPE, **defaults,
                **{field: _nested_defaults(field) for field in _NESTED}, "created_at": now, "updated_at": now}
    result: ConnectionDocument = document  # type: ignore[assignment]
    return result


def parse_new(body: object) -> dict[str, Any]:
    """The fields of a create request, validated; raises InvalidInput listing every problem."""
    return parse_object(NewConnection, body).model_dump(exclude_unset=True)


def parse_changes(body: object) -> dict[str, Any]:
    """The fields of an update request, validated; raises InvalidInput listing every problem."""
    return parse_object(ConnectionChanges, body).model_dump(exclude_unset=True)


def apply_changes(connection: ConnectionDocument, changes: dict[str, Any], now: str) -> ConnectionDocument:
    """The connection with the changes applied as profiles' are (see ovp.domain.patch.merge_patch)."""
    result: ConnectionDocument = merge_patch(connection, changes, _NESTED_DEFAULTS, now)  # type: ignore[assignment]
    check_consistency(result)
    return result


def outbound_profile_id(connection: Mapping[str, Any]) -> int | None:
    """The profile a connection of any kind names in outbound.outbound_voice_profile_id."""
    profile_id = connection["outbound"]["outbound_voice_profile_id"]
    return None if profile_id is None else int(profile_id)


def wire_view(connection: ConnectionDocument, *, reveal_password: bool = False) -> dict[str, Any]:
    """The connection as the API answers it: the password masked unless this answer may show it."""
    view: dict[str, Any] = dict(connection)
    if not reveal_password:
        view["password"] = MASKED_PASSWORD
    return view


def check_consistency(connection: Mapping[str, Any]) -> None:
    """Rules that tie one field to another, checked on the connection as it would be stored."""
    problems = ProblemList()
    code, title = BAD_VALUE
    if connection["webhook_api_version"] == "texml" and not connection["outbound"]["call_parking_enabled"]:
        problems.add(Problem(code, title, "webhook_api_version texml needs outbound.call_parking_enabled true.",
                             pointer="/webhook_api_version"))
    jitter = connection["jitter_buffer"]
    low, high = jitter["jitterbuffer_msec_min"], jitter["jitterbuffer_msec_max"]
    if low is not None and high is not None and low > high:
        problems.add(Problem(code, title, "jitterbuffer_msec_min must not exceed jitterbuffer_msec_max.",
                             pointer="/jitter_buffer/jitterbuffer_msec_min"))
    problems.raise_if_any()


def _written_view(connection: ConnectionDocument, previous: ConnectionDocument | None, _counted: int) -> dict[str, Any]:
    """The password in full on create, and on an update that changed it."""
    return wire_view(connection, reveal_password=previous is None or previous["password"] != connection["password"])


KIND = Kind[ConnectionDocument, int](
    RECORD_TYPE, NUMERIC_IDS, lambda connection_id, _account, now: new_connection(connection_id, now),
    parse_new, parse_changes, apply_changes, view=lambda connection, _counted: wire_view(connection),
    written_view=_written_view,
)
