"""An IP of an IP connection (Telnyx's `/v2/ips`; shapes from the official SDKs' types, PyPI `telnyx`
4.189 `types/ip*.py`, npm `telnyx` 7.24 `resources/ips`): an address, and port, that calls of the
connection come from, and that a switch recognises the connection by.

Ids are UUIDs, as Telnyx's are. An address is kept in its canonical form (`2001:DB8::1` is
`2001:db8::1`), so that an address is the same whatever way it was written. Within an account, an
address and port belong to one IP at most: a switch finds exactly one connection by them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ovp.domain.connections.fields import ConnectionReference
from ovp.domain.errors import Problem, ProblemList
from ovp.domain.listing import ListQuery, parse_connection_filter, parse_page, parse_port_filter
from ovp.domain.patch import merge_patch
from ovp.domain.resource import UUID_IDS, Kind
from ovp.domain.validation import BAD_VALUE, parse_object

RECORD_TYPE = "ip"
DEFAULT_PORT = 5060


def canonical_address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def _ip_address(value: str) -> str:
    canonical = canonical_address(value)
    if canonical is None:
        raise PydanticCustomError("ip_address", "{value} is not an IPv4 or IPv6 address", {"value": repr(value)})
    return canonical


IpAddress = Annotated[str, AfterValidator(_ip_address)]
Port = Annotated[int, Field(ge=1, le=65535)]


class IpDocument(TypedDict):
    id: str
    record_type: str
    connection_id: str | None
    ip_address: str
    port: int
    created_at: str
    updated_at: str


class IpChanges(BaseModel):
    """What a create or an update sends: `ip_address` is required on both, as the SDKs' types say.
    `connection_id` names one of the account's IP connections (checked by the service)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    ip_address: IpAddress
    connection_id: ConnectionReference | None = None
    port: Port = DEFAULT_PORT


def new_ip(ip_id: str, now: str) -> IpDocument:
    return {"id": ip_id, "record_type": RECORD_TYPE, "connection_id": None, "ip_address": "", "port": DEFAULT_PORT,
            "created_at": now, "updated_at": now}


def parse_changes(body: object) -> dict[str, Any]:
    """The fields of a create or update request, validated; raises InvalidInput listing every problem."""
    return parse_object(IpChanges, body).model_dump(exclude_unset=True)


def apply_changes(ip: IpDocument, changes: dict[str, Any], now: str) -> IpDocument:
    result: IpDocument = merge_patch(ip, changes, {}, now)  # type: ignore[assignment]
    return result


def connection_of(ip: Mapping[str, Any]) -> int | None:
    connection_id = ip["connection_id"]
    return None if connection_id is None else int(connection_id)


@dataclass(frozen=True)
class AddressUse:
    """One of the account's IPs at an address, with the connection it belongs to."""

    ip_id: str
    port: int
    connection_id: int
    active: bool
    profile_id: int | None


def source_connection(uses: Sequence[AddressUse], port: int | None) -> AddressUse | None:
    """Of an account's IPs at a call's source address, the one the call comes through: the IP at its
    port; else, when every IP at the address belongs to one connection, that connection's first;
    else none, since the address alone cannot tell."""
    exact = [use for use in uses if use.port == port]
    if exact:
        return exact[0]
    if uses and len({use.connection_id for use in uses}) == 1:
        return uses[0]
    return None


@dataclass(frozen=True)
class IpListQuery:
    page: ListQuery
    connection_id: int | None = None
    ip_address: str | None = None
    port: int | None = None


def parse_ip_list_query(params: Mapping[str, str]) -> IpListQuery:
    """page[number], page[size], filter[connection_id], filter[ip_address] and filter[port]; raises
    InvalidInput naming each bad parameter."""
    problems = ProblemList()
    page_number, page_size = parse_page(params, problems)
    connection_id = parse_connection_filter(params, problems)
    address = None
    if raw := params.get("filter[ip_address]"):
        address = canonical_address(raw)
        if address is None:
            code, title = BAD_VALUE
            problems.add(Problem(code, title, "filter[ip_address] must be an IPv4 or IPv6 address.",
                                 parameter="filter[ip_address]"))
    port = parse_port_filter(params, problems)
    problems.raise_if_any()
    return IpListQuery(ListQuery(page_number, page_size), connection_id, address, port)


KIND = Kind[IpDocument, str](
    RECORD_TYPE, UUID_IDS, lambda ip_id, _account, now: new_ip(ip_id, now), parse_changes, parse_changes,
    apply_changes,
)
