"""The FQDN connection: a SIP trunk that Telnyx reaches, and recognises, by the domain names its
FQDNs (`/v2/fqdns`) give. Shapes and defaults from the official SDKs' types (PyPI `telnyx` 4.189:
`types/fqdn_connection*.py`, `inbound_fqdn*.py`, `outbound_fqdn*.py`; npm `telnyx` 7.24), the
settings it shares with the other kinds as there (see ovp.domain.connections.credential_connection).

The SDKs answer some fields that no request sets (`adjust_dtmf_timestamp`, ...): ovp answers them
with fixed values, and ignores them in a request, as any read-only field. Its credentials and TXT
record (`user_name`, `password`, `txt_*`) are set through its authentication, `PATCH
/v2/fqdn_connections/{id}/fqdn_authentication` (ovp.domain.connections.fqdn_authentication), which
keeps what only it has in the document under `fqdn_authentication`, left out of the connection's answers.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ovp.domain.connections.credential_connection import (
    MASKED_PASSWORD,
    SHARED_NESTED,
    InboundBase,
    OutboundChanges,
    SharedChanges,
    check_consistency,
)
from ovp.domain.connections.fields import ConnectionName, ShortText, TechPrefix, Timeout1xx, Timeout2xx
from ovp.domain.errors import InvalidInput, Problem
from ovp.domain.patch import merge_patch
from ovp.domain.resource import NUMERIC_IDS, Kind
from ovp.domain.validation import BAD_VALUE, parse_object

RECORD_TYPE = "fqdn_connection"
AUTHENTICATION = "fqdn_authentication"  # the document's key of what only the authentication has

# Answered, never set by a request.
READ_ONLY: dict[str, Any] = {
    "adjust_dtmf_timestamp": False, "call_cost_enabled": False, "ignore_dtmf_duration": False,
    "ignore_mark_bit": False, "rtp_pass_codecs_on_stream_change": False, "send_normalized_timestamps": False,
    "third_party_control_enabled": False,
}
# Answered, and set only through the connection's authentication; null until then.
SET_BY_AUTHENTICATION: dict[str, Any] = {
    "user_name": None, "password": None, "txt_name": None, "txt_ttl": None, "txt_value": None,
}


class InboundFqdnChanges(InboundBase):
    default_primary_fqdn_id: str | None = None
    default_secondary_fqdn_id: str | None = None
    default_tertiary_fqdn_id: str | None = None
    sip_region: Literal["US", "Europe", "Australia"] = "US"
    sip_subdomain: ShortText | None = None
    sip_subdomain_receive_settings: Literal["only_my_connections", "from_anyone"] = "from_anyone"


class OutboundFqdnChanges(OutboundChanges):
    encrypted_media: Literal["SRTP"] | None = None
    ip_authentication_method: Literal["credential-authentication", "ip-authentication"] | None = None
    ip_authentication_token: ShortText | None = None
    tech_prefix: TechPrefix | None = None  # as an IP connection's
    timeout_1xx_secs: Timeout1xx = 3
    timeout_2xx_secs: Timeout2xx = 90


class FqdnConnectionChanges(SharedChanges):
    """What a client may send on update: any field, none required."""

    inbound: InboundFqdnChanges | None = None
    outbound: OutboundFqdnChanges | None = None
    transport_protocol: Literal["UDP", "TCP", "TLS"] = "UDP"
    microsoft_teams_sbc: bool = False


class NewFqdnConnection(FqdnConnectionChanges):
    """What a client may send on create: `connection_name` is required, as the SDKs' types say."""

    connection_name: ConnectionName


class AuthenticationOnly(BaseModel):
    """What of the authentication the connection itself does not answer, with its default."""

    model_config = ConfigDict(extra="ignore", strict=True)
    ip_authentication_method: Literal["token", "p-charge-info"] | None = None


_NESTED: dict[str, type[BaseModel]] = {"inbound": InboundFqdnChanges, "outbound": OutboundFqdnChanges,
                                       AUTHENTICATION: AuthenticationOnly, **SHARED_NESTED}


def _nested_defaults(field: str) -> dict[str, Any]:
    defaults: dict[str, Any] = _NESTED[field]().model_dump()
    return defaults


_NESTED_DEFAULTS = {field: partial(_nested_defaults, field) for field in _NESTED}


def new_fqdn_connection(connection_id: int, now: str) -> dict[str, Any]:
    """An FQDN connection with every default, before the client's fields apply."""
    return {"id": str(connection_id), "record_type": RECORD_TYPE, **FqdnConnectionChanges().model_dump(),
            **{field: _nested_defaults(field) for field in _NESTED}, **READ_ONLY, **SET_BY_AUTHENTICATION,
            "created_at": now, "updated_at": now}


def parse_new(body: object) -> dict[str, Any]:
    return parse_object(NewFqdnConnection, body).model_dump(exclude_unset=True)


def parse_changes(body: object) -> dict[str, Any]:
    return parse_object(FqdnConnectionChanges, body).model_dump(exclude_unset=True)


def apply_changes(connection: dict[str, Any], changes: dict[str, Any], now: str) -> dict[str, Any]:
    """The connection with the changes applied as profiles' are (see ovp.domain.patch.merge_patch)."""
    result = merge_patch(connection, changes, _NESTED_DEFAULTS, now)
    check_consistency(result)
    code, title = BAD_VALUE  # Telnyx: SRTP "can only be set when the SIP signaling transport protocol is TLS"
    for pointer, media in (("/encrypted_media", result["encrypted_media"]),
                           ("/outbound/encrypted_media", result["outbound"]["encrypted_media"])):
        if media is not None and result["transport_protocol"] != "TLS":
            raise InvalidInput([Problem(code, title, f"{pointer[1:]} SRTP needs transport_protocol TLS.",
                                        pointer=pointer)])
    return result


def shown_password(password: str | None, *, reveal: bool) -> str | None:
    """A password as an answer shows it: masked as a credential connection's, unless this answer
    may show it; none stays null."""
    return password if reveal or password is None else MASKED_PASSWORD


def password_revealed(connection: dict[str, Any], previous: dict[str, Any] | None) -> bool:
    """Whether the answer to the write that made `connection` shows its password in full: Telnyx
    shows it on create, and on an update that changed it."""
    return previous is None or previous["password"] != connection["password"]


def wire_view(connection: dict[str, Any], *, reveal_password: bool = False) -> dict[str, Any]:
    """The connection as its own answers show it: without what only its authentication answers."""
    view = {field: value for field, value in connection.items() if field != AUTHENTICATION}
    view["password"] = shown_password(connection["password"], reveal=reveal_password)
    return view


KIND = Kind[dict[str, Any], int](
    RECORD_TYPE, NUMERIC_IDS, lambda connection_id, _account, now: new_fqdn_connection(connection_id, now),
    parse_new, parse_changes, apply_changes, view=lambda connection, _counted: wire_view(connection),
    written_view=lambda connection, previous, _counted: wire_view(
        connection, reveal_password=password_revealed(connection, previous)),
)
