"""What Call Control and TeXML applications share: Telnyx counts them among an account's
connections, each names an outbound voice profile in `outbound.outbound_voice_profile_id` as a SIP
connection does, and each is kept as its wire document. Shapes and defaults from the official SDKs'
types (PyPI `telnyx` 4.189: `types/call_control_application*.py`, `types/texml_application*.py`;
npm `telnyx` 7.24).

A PATCH applies only the fields it sends, as for every resource of ovp: the SDKs' update types
mark the application's name and URL required, and send them, so a partial body is ovp's leniency
alone, never something Telnyx would refuse that ovp accepts."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ovp.domain.connections.fields import ChannelLimit, ProfileReference, ShortText
from ovp.domain.fields import MAX_INT32, Tags
from ovp.domain.patch import merge_patch
from ovp.domain.resource import NUMERIC_IDS, Kind
from ovp.domain.validation import parse_object

Document = dict[str, Any]
# Telnyx documents no bounds for the dial command's timeout; ovp refuses only what no timeout can be.
FirstCommandTimeout = Annotated[int, Field(ge=1, le=MAX_INT32)]


class _Changes(BaseModel):
    # Strict, and unknown or read-only fields ignored, as for every resource. Each default is Telnyx's.
    model_config = ConfigDict(extra="ignore", strict=True)


class InboundApplicationChanges(_Changes):
    channel_limit: ChannelLimit | None = None
    shaken_stir_enabled: bool = False
    sip_subdomain: ShortText | None = None
    sip_subdomain_receive_settings: Literal["only_my_connections", "from_anyone"] = "from_anyone"


class OutboundApplicationChanges(_Changes):
    channel_limit: ChannelLimit | None = None
    outbound_voice_profile_id: ProfileReference | None = None


class ApplicationChanges(_Changes):
    """The settings both kinds of application have, with Telnyx's defaults."""

    active: bool = True
    call_cost_in_webhooks: bool = False
    dtmf_type: Literal["RFC 2833", "Inband", "SIP INFO"] = "RFC 2833"
    first_command_timeout: bool = False
    first_command_timeout_secs: FirstCommandTimeout = 30
    inbound: InboundApplicationChanges | None = None
    outbound: OutboundApplicationChanges | None = None
    tags: Tags = Field(default_factory=list)


_NESTED: dict[str, type[_Changes]] = {"inbound": InboundApplicationChanges, "outbound": OutboundApplicationChanges}


def _nested_defaults(field: str) -> dict[str, Any]:
    return _NESTED[field]().model_dump()


_NESTED_DEFAULTS = {field: partial(_nested_defaults, field) for field in _NESTED}


def application_kind(record_type: str, changes: type[ApplicationChanges],
                     new: type[ApplicationChanges]) -> Kind[Document, int]:
    """The kind of one application: `changes`, what an update may send (every field optional);
    `new`, what a create must send."""

    def made(application_id: int, _account_id: str, now: str) -> Document:
        return {"id": str(application_id), "record_type": record_type, **changes().model_dump(),
                **{field: _nested_defaults(field) for field in _NESTED}, "created_at": now, "updated_at": now}

    def parser(model: type[ApplicationChanges]) -> Callable[[object], dict[str, Any]]:
        return lambda body: parse_object(model, body).model_dump(exclude_unset=True)

    def apply(application: Document, sent: dict[str, Any], now: str) -> Document:
        return merge_patch(application, sent, _NESTED_DEFAULTS, now)

    return Kind[Document, int](record_type, NUMERIC_IDS, made, parser(new), parser(changes), apply)
