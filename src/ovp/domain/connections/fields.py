"""Field types of connections of every kind, with Telnyx's documented limits."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

from ovp.domain.fields import MAX_INT32, BillingGroupId
from ovp.domain.fields import _no_nul as no_nul
from ovp.domain.ids import parse_id

_USER_NAME = re.compile(r"[A-Za-z0-9]{4,32}")
_TECH_PREFIX = re.compile(r"[0-9]{4}")
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S+")


def could_be_user_name(value: str) -> bool:
    """Whether `value` has a user name's characters and length (a lookup by anything else finds nothing)."""
    return _USER_NAME.fullmatch(value) is not None


def _user_name(value: str) -> str:
    # Telnyx: 4-32 characters, alphanumeric only, and a letter among the first five.
    if not _USER_NAME.fullmatch(value):
        raise PydanticCustomError("user_name", "must be 4 to 32 letters and digits, with no spaces or other characters")
    if not any(character.isalpha() for character in value[:5]):
        raise PydanticCustomError("user_name", "must have a letter among its first 5 characters")
    return value


def _tech_prefix(value: str) -> str:
    if not _TECH_PREFIX.fullmatch(value):  # Telnyx: "numerical chars only, exactly 4 characters"
        raise PydanticCustomError("tech_prefix", "must be exactly 4 digits")
    return value


def _url(value: str) -> str:
    if not _URL.fullmatch(value):
        raise PydanticCustomError("url", "{value} is not a URL with a scheme, such as 'https://example.com'",
                                  {"value": repr(value)})
    return value


def _failover_url(value: str) -> str:
    return value if value == "" else _url(value)  # Telnyx's default is "", meaning none


def _profile_id(value: str) -> str:
    if parse_id(value) is None:
        raise PydanticCustomError("profile_id", "{value} is not an outbound voice profile id such as "
                                  "'1293384261075731499'", {"value": repr(value)})
    return value


def _connection_id(value: str) -> str:
    if parse_id(value) is None:
        raise PydanticCustomError("connection_id", "{value} is not a connection id such as '1293384261075731499'",
                                  {"value": repr(value)})
    return value


ConnectionName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(no_nul)]
UserName = Annotated[str, AfterValidator(_user_name)]
Password = Annotated[str, Field(min_length=8, max_length=128), AfterValidator(no_nul)]
Url = Annotated[str, Field(max_length=2048), AfterValidator(_url)]
FailoverUrl = Annotated[str, Field(max_length=2048), AfterValidator(_failover_url)]
PushCredentialId = BillingGroupId  # any UUID, normalised to lower case
ProfileReference = Annotated[str, AfterValidator(_profile_id)]
ConnectionReference = Annotated[str, AfterValidator(_connection_id)]
TechPrefix = Annotated[str, AfterValidator(_tech_prefix)]  # an IP or FQDN connection's outbound.tech_prefix
ShortText = Annotated[str, Field(max_length=255), AfterValidator(no_nul)]
ChannelLimit = Annotated[int, Field(ge=0, le=MAX_INT32)]
TxtTtl = Annotated[int, Field(ge=0, le=MAX_INT32)]  # seconds, as DNS has them (RFC 2181: at most 2^31 - 1)
Codec = Annotated[str, Field(min_length=1, max_length=32)]
Codecs = Annotated[list[Codec], Field(max_length=32)]
WebhookTimeout = Annotated[int, Field(ge=0, le=30)]
Timeout1xx = Annotated[int, Field(ge=1, le=120)]
Timeout2xx = Annotated[int, Field(ge=1, le=600)]
ReportFrequency = Annotated[int, Field(ge=5, le=3000)]
JitterBufferMsec = Annotated[int, Field(ge=40, le=400)]
AttenuationLimit = Annotated[int, Field(ge=0, le=100)]
