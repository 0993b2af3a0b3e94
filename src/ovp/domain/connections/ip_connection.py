"""The IP connection: a SIP trunk whose calls are recognised by the addresses they come from (its IPs,
`/v2/ips`), not by credentials. Shapes and defaults from the official SDKs' types (PyPI `telnyx`
4.189: `types/ip_connection*.py`, `inbound_ip*.py`, `outbound_ip*.py`; npm `telnyx` 7.24), the
settings it shares with a credential connection as there (see ovp.domain.connections.credential_connection).

Like every connection, it is kept as its wire document; what ovp reads of it is its outbound profile.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field
from pydantic_core import PydanticCustomError

from ovp.domain.connections.credential_connection import (
    SHARED_NESTED,
    InboundBase,
    OutboundChanges,
    SharedChanges,
    check_consistency,
)
from ovp.domain.connections.fields import PushCredentialId, ShortText, TechPrefix
from ovp.domain.errors import InvalidInput, Problem
from ovp.domain.patch import merge_patch
from ovp.domain.resource import NUMERIC_IDS, Kind
from ovp.domain.validation import BAD_VALUE, parse_object

RECORD_TYPE = "ip_connection"
_SUBDOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")


def _subdomain(value: str) -> str:
    if not _SUBDOMAIN.fullmatch(value):
        raise PydanticCustomError("sip_subdomain", "must be 1 to 63 lower-case letters, digits and inner hyphens")
    return value


Subdomain = Annotated[str, AfterValidator(_subdomain)]
IpId = PushCredentialId  # the id of one of the connection's IPs: a UUID


class InboundIpChanges(InboundBase):
    default_primary_ip_id: IpId | None = None
    default_secondary_ip_id: IpId | None = None
    default_tertiary_ip_id: IpId | None = None
    sip_region: Literal["US", "Europe", "Australia"] = "US"
    sip_subdomain: Subdomain | None = None
    sip_subdomain_receive_settings: Literal["only_my_connections", "from_anyone"] = "from_anyone"


class OutboundIpChanges(OutboundChanges):
    ip_authentication_method: Literal["tech-prefixp-charge-info", "token"] | None = None
    ip_authentication_token: ShortText | None = None
    tech_prefix: TechPrefix | None = None


class IpConnectionChanges(SharedChanges):
    """What a client may send on create and on update: any field, none required."""

    inbound: InboundIpChanges | None = None
    outbound: OutboundIpChanges | None = None
    transport_protocol: Literal["UDP", "TCP", "TLS"] = "UDP"
    # The name is optional here (the SDKs' create parameters say so), and at most 255 characters.
    connection_name: Annotated[str, Field(max_length=255)] = ""


_NESTED: dict[str, type[BaseModel]] = {"inbound": InboundIpChanges, "outbound": OutboundIpChanges, **SHARED_NESTED}


def _nested_defaults(field: str) -> dict[str, Any]:
    defaults: dict[str, Any] = _NESTED[field]().model_dump()
    return defaults


_NESTED_DEFAULTS = {field: partial(_nested_defaults, field) for field in _NESTED}


def new_ip_connection(connection_id: int, now: str) -> dict[str, Any]:
    """An IP connection with every default, before the client's fields apply."""
    return {"id": str(connection_id), "record_type": RECORD_TYPE, **IpConnectionChanges().model_dump(),
            **{field: _nested_defaults(field) for field in _NESTED}, "created_at": now, "updated_at": now}


def parse_changes(body: object) -> dict[str, Any]:
    """The fields of a create or update request, validated; raises InvalidInput listing every problem."""
    return parse_object(IpConnectionChanges, body).model_dump(exclude_unset=True)


def apply_changes(connection: dict[str, Any], changes: dict[str, Any], now: str) -> dict[str, Any]:
    """The connection with the changes applied as profiles' are (see ovp.domain.patch.merge_patch)."""
    result = merge_patch(connection, changes, _NESTED_DEFAULTS, now)
    check_consistency(result)
    if result["encrypted_media"] is not None and result["transport_protocol"] != "TLS":
        code, title = BAD_VALUE  # Telnyx: SRTP "can only be set when the SIP signaling transport protocol is TLS"
        raise InvalidInput([Problem(code, title, "encrypted_media SRTP needs transport_protocol TLS.",
                                    pointer="/encrypted_media")])
    return result


KIND = Kind[dict[str, Any], int](
    RECORD_TYPE, NUMERIC_IDS, lambda connection_id, _account, now: new_ip_connection(connection_id, now),
    parse_changes, parse_changes, apply_changes,
)
